"""Configuration: ``config.yaml`` merged over defaults, then ``WXMEMBER_<SECTION>_<KEY>``.

Every problem is reported as one ``ConfigError`` whose message names the key.
"""

import base64
import binascii
import copy
import json
import os
from pathlib import Path

import yaml

DEFAULT_PATH = Path(__file__).resolve().parent.parent / "config.yaml"
DEV_API_TOKEN = "dev-token-change-me"

DEFAULTS = {
    "mongo": {"uri": "embedded://", "database": "wxmember", "data_dir": "var/db"},
    "wechat": {
        "token": "",
        "appid": "",
        "appsecret": "",
        "encoding_aes_key": "",
        "api_base_url": "https://api.weixin.qq.com/cgi-bin/",
        "api_timeout_s": 3.0,
        "oauth_url": "https://open.weixin.qq.com/connect/oauth2/authorize",
        "sns_base_url": "https://api.weixin.qq.com/sns/",
        "dedup_ttl_s": 600,
        "timestamp_window_s": 300,
        "grade_template_id": "",
    },
    "crm": {
        "base_url": "simulator",
        "api_key": "",
        "timeout_s": 3.0,
        "retries": 2,
        "simulator_members": 200,
    },
    "scheduler": {
        "enabled": True,
        "member_sync_minutes": 10,
        "activities_minutes": 60,
        "reconcile_minutes": 360,
        "outbox_seconds": 30,
        "batch_size": 100,
        "transactions_minutes": 10,
        "grades_minutes": 1440,
        "points_expiry_minutes": 1440,
        "shake_sweep_minutes": 5,
        "template_seconds": 60,
        "coupon_expiry_minutes": 60,
        "birthday_coupons_minutes": 1440,
        "grade_coupons_minutes": 10,
    },
    "console": {
        "api_token": "",
        "session_secret": "",
        "session_idle_minutes": 30,  # a staff console session ends after this long unused
        "session_hours": 12,  # and this long after sign-in in any case
    },
    "replies": {"welcome": "", "keywords": {}},
    "member": {
        "points_expiry": "never",
        "site_url": "",  # where members open the pages (https://host): links in WeChat replies
    },
}

EMBEDDED_URI = "embedded://"  # the SecantusDB engine on mongo.data_dir (wxmember/db/engine.py)
MOCK_URI = "mongomock://"  # in-process, this process only: quick unit tests
SERVER_SCHEMES = ("mongodb://", "mongodb+srv://")


class ConfigError(Exception):
    """A configuration value is missing or wrong; the message names the key."""

    def __init__(self, key, problem):
        super().__init__(f"config error: {key}: {problem}")
        self.key = key


def load_config(path=None, environ=None):
    """Load, override from the environment and validate; return a nested dict."""
    environ = os.environ if environ is None else environ
    path = Path(path or environ.get("WXMEMBER_CONFIG") or DEFAULT_PATH)
    config = copy.deepcopy(DEFAULTS)
    _merge(config, _read_yaml(path))
    _apply_environment(config, environ)
    validate(config)
    config["mongo"]["data_dir"] = str(path.resolve().parent / config["mongo"]["data_dir"])
    return config


def _read_yaml(path):
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(str(path), f"cannot read ({exc.strerror})") from None
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "file"
        raise ConfigError(str(path), f"not valid YAML at {where}") from None
    if not isinstance(data, dict):
        raise ConfigError(str(path), "must be a mapping of sections")
    return data


def _merge(config, data):
    for section, values in data.items():
        if section not in config:
            raise ConfigError(section, "unknown section")
        if not isinstance(values, dict):
            raise ConfigError(section, "must be a mapping")
        for key, value in values.items():
            if key not in config[section]:
                raise ConfigError(f"{section}.{key}", "unknown key")
            config[section][key] = _coerce(f"{section}.{key}", value, DEFAULTS[section][key])


def _apply_environment(config, environ):
    for section, values in DEFAULTS.items():
        for key, default in values.items():
            name = f"WXMEMBER_{section}_{key}".upper()
            if name in environ:
                raw = environ[name]
                value = _parse_json(name, raw) if isinstance(default, dict) else raw
                config[section][key] = _coerce(f"{section}.{key}", value, default)


def _parse_json(name, raw):
    try:
        return json.loads(raw)
    except ValueError:
        raise ConfigError(name, "must be JSON") from None


def _coerce(key, value, default):
    """Return ``value`` converted to the type of ``default`` or raise ConfigError."""
    if value is None:
        value = ""
    if isinstance(default, bool):
        return _coerce_bool(key, value)
    if isinstance(default, (int, float)):
        return _coerce_number(key, value, type(default))
    if isinstance(default, dict):
        if not isinstance(value, dict):
            raise ConfigError(key, "must be a mapping")
        return {str(k): str(v) for k, v in value.items()}
    if isinstance(value, (dict, list)):
        raise ConfigError(key, "must be a text value")
    return str(value)


def _coerce_bool(key, value):
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ConfigError(key, f"must be true or false, not {value!r}")


def _coerce_number(key, value, kind):
    try:
        number = kind(value)
    except (TypeError, ValueError):
        raise ConfigError(key, f"must be a number, not {value!r}") from None
    if number < 0:
        raise ConfigError(key, "must not be negative")
    return number


def validate(config):
    """Check values that are wrong whatever their type; raise ConfigError."""
    uri = config["mongo"]["uri"]
    if uri not in (EMBEDDED_URI, MOCK_URI) and not uri.startswith(SERVER_SCHEMES):
        raise ConfigError(
            "mongo.uri", "must be embedded://, mongomock:// or start with mongodb(+srv)://"
        )
    if not config["mongo"]["database"]:
        raise ConfigError("mongo.database", "must not be empty")
    if uri == EMBEDDED_URI and not config["mongo"]["data_dir"]:
        raise ConfigError("mongo.data_dir", "must name the embedded engine's data directory")
    wechat = config["wechat"]
    if not wechat["token"]:
        raise ConfigError(
            "wechat.token", "must be set to the token entered on the WeChat admin page"
        )
    if wechat["encoding_aes_key"]:
        _check_aes_key(wechat["encoding_aes_key"])
        if not wechat["appid"]:
            raise ConfigError("wechat.appid", "is required when encoding_aes_key is set")
    if wechat["appsecret"] and not wechat["appid"]:
        raise ConfigError("wechat.appid", "is required when appsecret is set")
    if wechat["dedup_ttl_s"] < wechat["timestamp_window_s"]:
        raise ConfigError(
            "wechat.dedup_ttl_s", "must be at least wechat.timestamp_window_s (replays)"
        )
    for key in (
        "wechat.api_timeout_s",
        "wechat.dedup_ttl_s",
        "crm.timeout_s",
        "console.session_idle_minutes",
        "console.session_hours",
    ):
        section, name = key.split(".")
        if config[section][name] <= 0:
            raise ConfigError(key, "must be greater than 0")
    base_url = config["crm"]["base_url"]
    if base_url != "simulator" and not base_url.startswith(("http://", "https://")):
        raise ConfigError("crm.base_url", "must be an http(s) URL or 'simulator'")
    if not config["console"]["session_secret"] and not is_embedded(config):
        raise ConfigError("console.session_secret", "must be set (signs member sessions)")
    _check_expiry(config["member"]["points_expiry"])
    _check_site_url(config["member"]["site_url"])
    token = config["console"]["api_token"]
    if token == DEV_API_TOKEN and not is_embedded(config):
        raise ConfigError("console.api_token", "the shipped development token must be replaced")
    if base_url == "simulator" and not is_embedded(config):
        # its /sim/… routes show SMS codes and mobiles to anyone: never beside real data
        raise ConfigError(
            "crm.base_url", "the built-in simulator runs only on the embedded database"
        )


def _check_expiry(spec):
    from wxmember.members.points import ExpiryPolicy

    try:
        ExpiryPolicy(spec)
    except ValueError as exc:
        raise ConfigError("member.points_expiry", str(exc)) from None


def _check_site_url(url):
    """Empty (no links in replies), or an http(s) URL a link can carry as it is."""
    if url and (not url.startswith(("http://", "https://")) or set(url) & set("?#\"'<> ")):
        raise ConfigError("member.site_url", "must be an http(s) URL like https://wx.example.com")


def _check_aes_key(key):
    problem = "must be the 43-character EncodingAESKey from the WeChat admin page"
    if len(key) != 43:
        raise ConfigError("wechat.encoding_aes_key", problem)
    try:
        decoded = base64.b64decode(key + "=", validate=True)
    except (binascii.Error, ValueError):
        raise ConfigError("wechat.encoding_aes_key", problem) from None
    if len(decoded) != 32:
        raise ConfigError("wechat.encoding_aes_key", problem)


def is_embedded(config):
    """True on a database of this machine only (the embedded engine, or mongomock in tests).

    Development conveniences (the shipped API token, the dev login, a generated
    session secret, the in-process scheduler) are allowed only then.
    """
    return config["mongo"]["uri"] in (EMBEDDED_URI, MOCK_URI)

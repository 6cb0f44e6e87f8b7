"""config.yaml and WXMEMBER_* overrides: every problem is one line naming the key."""

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import AES_KEY, write_config
from wxmember.config import ConfigError, load_config

REPO = Path(__file__).resolve().parent.parent


def test_shipped_config_is_the_embedded_default():
    config = load_config(REPO / "config.yaml", environ={})
    assert config["mongo"]["uri"] == "embedded://"
    assert config["mongo"]["data_dir"] == str(REPO / "var" / "db")  # beside config.yaml
    assert config["crm"]["base_url"] == "simulator"
    assert config["wechat"]["encoding_aes_key"] == ""  # plain mode
    assert config["replies"]["welcome"]


@pytest.mark.parametrize(
    ("variable", "section", "key", "value"),
    [
        ("WXMEMBER_WECHAT_TOKEN", "wechat", "token", "tok-from-env"),
        ("WXMEMBER_WECHAT_APPID", "wechat", "appid", "wxenv"),
        ("WXMEMBER_WECHAT_APPSECRET", "wechat", "appsecret", "secret-from-env"),
        ("WXMEMBER_WECHAT_ENCODING_AES_KEY", "wechat", "encoding_aes_key", AES_KEY),
        ("WXMEMBER_MONGO_URI", "mongo", "uri", "mongodb://db.internal:27017/?replicaSet=rs0"),
        ("WXMEMBER_CONSOLE_API_TOKEN", "console", "api_token", "staff-from-env"),
        ("WXMEMBER_CRM_TIMEOUT_S", "crm", "timeout_s", 7.5),
    ],
)
def test_environment_overrides_each_key(tmp_path, variable, section, key, value):
    environ = {
        variable: str(value),
        "WXMEMBER_WECHAT_APPID": "wxenv",
        "WXMEMBER_CONSOLE_SESSION_SECRET": "s3cret",
        "WXMEMBER_CRM_BASE_URL": "https://crm.example.com",
    }
    config = load_config(write_config(tmp_path), environ=environ)
    assert config[section][key] == value


def test_environment_overrides_a_mapping_as_json(tmp_path):
    environ = {"WXMEMBER_REPLIES_KEYWORDS": '{"你好": "您好！"}'}
    assert load_config(write_config(tmp_path), environ)["replies"]["keywords"] == {"你好": "您好！"}


def test_config_path_from_environment(tmp_path):
    path = write_config(tmp_path, wechat={"token": "from-file"})
    config = load_config(environ={"WXMEMBER_CONFIG": str(path)})
    assert config["wechat"]["token"] == "from-file"


@pytest.mark.parametrize(
    ("sections", "environ", "key"),
    [
        ({"wechat": {"encoding_aes_key": "short"}}, {}, "wechat.encoding_aes_key"),
        ({"wechat": {"encoding_aes_key": "!" * 43}}, {}, "wechat.encoding_aes_key"),
        ({"wechat": {"token": ""}}, {}, "wechat.token"),
        ({"wechat": {"appid": "", "appsecret": "s"}}, {}, "wechat.appid"),
        ({"wechat": {"tokne": "typo"}}, {}, "wechat.tokne"),
        ({"mongoo": {"uri": "x"}}, {}, "mongoo"),
        ({"mongo": {"uri": "postgres://x"}}, {}, "mongo.uri"),
        ({"crm": {"timeout_s": "soon"}}, {}, "crm.timeout_s"),
        ({"crm": {"timeout_s": -1}}, {}, "crm.timeout_s"),
        ({"scheduler": {"enabled": "maybe"}}, {}, "scheduler.enabled"),
        ({"replies": {"keywords": ["a"]}}, {}, "replies.keywords"),
        ({}, {"WXMEMBER_WECHAT_DEDUP_TTL_S": "an hour"}, "wechat.dedup_ttl_s"),
        ({"wechat": {"dedup_ttl_s": 60}}, {}, "wechat.dedup_ttl_s"),  # shorter than the window
        ({}, {"WXMEMBER_REPLIES_KEYWORDS": "{not json"}, "WXMEMBER_REPLIES_KEYWORDS"),
        (
            {"console": {"api_token": "dev-token-change-me", "session_secret": "s"}},
            {"WXMEMBER_MONGO_URI": "mongodb://db:27017"},
            "console.api_token",
        ),
        ({}, {"WXMEMBER_MONGO_URI": "mongodb://db:27017"}, "console.session_secret"),
        ({"crm": {"base_url": "crm.internal"}}, {}, "crm.base_url"),
        ({"member": {"site_url": "wx.example.com"}}, {}, "member.site_url"),
        ({"member": {"site_url": 'https://x/"><script>'}}, {}, "member.site_url"),
        (  # the simulator's /sim/… routes would serve SMS codes beside real data
            {
                "console": {"api_token": "t", "session_secret": "s"},
                "crm": {"base_url": "simulator"},
            },
            {"WXMEMBER_MONGO_URI": "mongodb://db:27017"},
            "crm.base_url",
        ),
    ],
)
def test_bad_value_names_the_key(tmp_path, sections, environ, key):
    with pytest.raises(ConfigError) as error:
        load_config(write_config(tmp_path, **sections), environ=environ)
    assert error.value.key == key
    assert key in str(error.value) and "\n" not in str(error.value)


def test_broken_yaml_names_the_file_and_line(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("mongo:\n  uri: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="line"):
        load_config(path, environ={})


def test_missing_file_is_named(tmp_path):
    with pytest.raises(ConfigError, match="nothing.yaml"):
        load_config(tmp_path / "nothing.yaml", environ={})


def test_serve_with_bad_config_stops_with_one_line(tmp_path):
    path = write_config(tmp_path, wechat={"encoding_aes_key": "short"})
    result = subprocess.run(
        [sys.executable, "-m", "wxmember", "--config", str(path), "serve", "--port", "1"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1
    assert lines[0].startswith("Error: config error: wechat.encoding_aes_key: must be")
    assert "Traceback" not in result.stderr

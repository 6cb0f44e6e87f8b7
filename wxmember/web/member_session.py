"""``/m`` login: the WeChat OAuth session that tells the member pages who the member is.

``session["openid"]`` is set by the OAuth callback (or, in the embedded default
only, by ``/m/dev/login``); an openid or member id in a request is never trusted.
See https://developers.weixin.qq.com/doc/offiaccount/OA_Web_Apps/Wechat_webpage_authorization.html
"""

import logging
import re
import secrets
from urllib.parse import unquote, urlencode

import requests
from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from wxmember.binding.service import BindingRefused
from wxmember.config import is_embedded
from wxmember.web.jsonerrors import json_error
from wxmember.web.loopback import from_this_machine

log = logging.getLogger(__name__)
SAFE_NEXT = re.compile(r"/m/[A-Za-z0-9/_\-.?=&%]{0,200}")  # a path of ours, printable ASCII

bp = Blueprint("member_session", __name__, url_prefix="/m")


def _wechat_config():
    return current_app.extensions["wxmember"].config["wechat"]


def _dev_login_allowed():
    config = current_app.extensions["wxmember"].config
    return is_embedded(config) and not config["wechat"]["appsecret"] and from_this_machine()


@bp.get("/dev/login")
def dev_login():
    """Open a member session without WeChat: the embedded default only, 404 elsewhere."""
    openid = request.args.get("openid", "").strip()
    if not _dev_login_allowed():
        abort(404)
    if not openid or len(openid) > 64:
        return json_error(400, "invalid_openid", "请提供openid")
    session.clear()
    session["openid"] = openid
    return redirect(_safe_next(request.args.get("next")))


@bp.get("/oauth/start")
def oauth_start():
    """Send the member to WeChat's authorization page (snsapi_base: silent)."""
    wechat = _wechat_config()
    if not wechat["appsecret"]:
        return json_error(503, "oauth_unavailable", "未配置微信网页授权，请在微信中打开")
    state = secrets.token_urlsafe(16)
    session["oauth_state"] = state
    session["oauth_next"] = _safe_next(request.args.get("next"))
    query = urlencode(
        {
            "appid": wechat["appid"],
            "redirect_uri": url_for("member_session.oauth_callback", _external=True),
            "response_type": "code",
            "scope": "snsapi_base",
            "state": state,
        }
    )
    return redirect(f"{wechat['oauth_url']}?{query}#wechat_redirect")


@bp.get("/oauth/callback")
def oauth_callback():
    """Exchange WeChat's ``code`` for the member's openid and open the session."""
    state, code = request.args.get("state", ""), request.args.get("code", "")
    expected = session.pop("oauth_state", None)
    if not code or not expected or not secrets.compare_digest(state, expected):
        return json_error(400, "oauth_state", "授权已失效，请重新打开页面")
    openid = _openid_for_code(code)
    if openid is None:
        return json_error(502, "oauth_failed", "微信授权失败，请稍后再试")
    next_page = session.pop("oauth_next", url_for("member.center_page"))
    session["openid"] = openid
    return redirect(next_page)


def _openid_for_code(code):
    wechat = _wechat_config()
    params = {
        "appid": wechat["appid"],
        "secret": wechat["appsecret"],
        "code": code,
        "grant_type": "authorization_code",
    }
    try:
        answer = requests.get(
            f"{wechat['sns_base_url']}oauth2/access_token",
            params=params,
            timeout=wechat["api_timeout_s"],
        ).json()
    except (requests.RequestException, ValueError) as exc:
        log.warning("OAuth code exchange failed: %s", type(exc).__name__)
        return None
    openid = answer.get("openid") if isinstance(answer, dict) else None
    if not openid:
        errcode = answer.get("errcode") if isinstance(answer, dict) else "not JSON"
        log.warning("OAuth code refused by WeChat: errcode %s", errcode)
    return openid


def _safe_next(target):
    """Only our own member pages are valid targets after login (no control characters).

    No dot segments, spelled out or percent-encoded: a browser reads ``%2e%2e`` as ``..``.
    """
    if (
        isinstance(target, str)
        and SAFE_NEXT.fullmatch(target)
        and not target.startswith("//")
        and ".." not in unquote(target)
    ):
        return target
    return url_for("member.center_page")


def current_openid():
    """The member of this session; a 401 refusal without one."""
    openid = session.get("openid")
    if not openid:
        raise BindingRefused(401, "not_logged_in", "请在微信中打开此页面")
    return openid


def json_body():
    """The request's JSON object; a 415/400 refusal otherwise."""
    if not request.is_json:
        raise BindingRefused(415, "json_required", "请求格式不正确")
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BindingRefused(400, "invalid_body", "请求格式不正确")
    return body


def page_or_login(template, build=None):
    """A member page, or the way to a session first (WeChat OAuth, or a hint without it).

    ``build(openid)`` gives the page's context, for the member of the session only.
    """
    openid = session.get("openid")
    if not openid:
        if _wechat_config()["appsecret"]:
            return redirect(
                url_for("member_session.oauth_start", next=request.full_path.rstrip("?"))
            )
        return render_template("login_needed.html"), 401
    return render_template(template, **(build(openid) if build else {}))

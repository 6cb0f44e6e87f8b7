"""``/m``: the member's H5 pages and their JSON API, known by the WeChat OAuth session only.

Who the member is comes from ``session["openid"]``, set by the OAuth callback (or,
in the embedded default only, by ``/m/dev/login``); an openid or member id in a
request is never trusted. Answers are ``{"ok": true, ...}`` or a 4xx with
``{"ok": false, "error": code, "message": 中文}``.
See https://developers.weixin.qq.com/doc/offiaccount/OA_Web_Apps/Wechat_webpage_authorization.html
"""

import logging
import secrets
from urllib.parse import urlencode

import requests
from flask import (
    Blueprint,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from wxmember.binding import BindingRefused
from wxmember.jsonerrors import json_error
from wxmember.logsafe import mask
from wxmember.money import WithdrawalRefused
from wxmember.shake import ShakeRefused
from wxmember.transactions import InvalidTransaction, to_fen

log = logging.getLogger(__name__)

bp = Blueprint("member", __name__, url_prefix="/m")


def _services():
    return current_app.extensions["wxmember"]


def _wechat_config():
    return _services().config["wechat"]


def _dev_login_allowed():
    config = _services().config
    return config["mongo"]["uri"].startswith("mongomock://") and not config["wechat"]["appsecret"]


@bp.errorhandler(BindingRefused)
def _refused(error):
    return json_error(error.status, error.code, error.message)


# -- session ---------------------------------------------------------------------


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
            "redirect_uri": url_for("member.oauth_callback", _external=True),
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
    next_page = session.pop("oauth_next", url_for("member.bind_page"))
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
        log.warning("OAuth code refused by WeChat: errcode %s", answer.get("errcode"))
    return openid


def _safe_next(target):
    """Only our own member pages are valid targets after login."""
    if target and target.startswith("/m/") and not target.startswith("//"):
        return target
    return url_for("member.bind_page")


def _openid():
    openid = session.get("openid")
    if not openid:
        raise BindingRefused(401, "not_logged_in", "请在微信中打开此页面")
    return openid


def _json_body():
    if not request.is_json:
        raise BindingRefused(415, "json_required", "请求格式不正确")
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BindingRefused(400, "invalid_body", "请求格式不正确")
    return body


# -- pages ---------------------------------------------------------------------


def _page(template):
    """A member page, or the way to a session first (WeChat OAuth, or a hint without it)."""
    if not session.get("openid"):
        if _wechat_config()["appsecret"]:
            return redirect(url_for("member.oauth_start", next=request.path))
        return render_template("login_needed.html"), 401
    return render_template(template)


@bp.get("/bind")
def bind_page():
    """The card binding page (mobile layout, Simplified Chinese)."""
    return _page("bind.html")


# -- JSON API ------------------------------------------------------------------


@bp.get("/api/me")
def me():
    """The member's binding."""
    return jsonify({"ok": True, **_services().binding.me(_openid())})


@bp.post("/api/sms")
def send_sms():
    """Text a code: ``{mobile}`` to bind, or ``{purpose: "unbind"}`` to the bound mobile."""
    openid, body = _openid(), _json_body()
    purpose = "unbind" if body.get("purpose") == "unbind" else "bind"
    sent = _services().binding.send_code(openid, body.get("mobile"), purpose)
    log.info("SMS code requested by %s for %s", mask(openid), purpose)
    return jsonify({"ok": True, **sent})


@bp.post("/api/bind")
def bind():
    """``{mobile, code, cardNumber?, name?}``: bind the card of the mobile, or open one."""
    openid, body = _openid(), _json_body()
    result = _services().binding.bind(
        openid, body.get("mobile"), body.get("code"), body.get("cardNumber"), body.get("name")
    )
    return jsonify({"ok": True, **result})


@bp.post("/api/unbind")
def unbind():
    """``{code}``: end the binding, confirmed by the code sent to the bound mobile."""
    openid, body = _openid(), _json_body()
    return jsonify({"ok": True, **_services().binding.unbind(openid, body.get("code"))})


@bp.post("/api/withdrawals")
def apply_withdrawal():
    """``{amount}`` (yuan): a bound member applies to withdraw earnings; staff decide."""
    openid, body = _openid(), _json_body()
    customer = _services().records.customers.get(openid) or {}
    if not customer.get("isRegister"):
        raise BindingRefused(409, "not_bound", "请先绑定会员卡")
    try:
        amount = to_fen(body.get("amount"), "amount")
    except InvalidTransaction:
        raise BindingRefused(400, "invalid_amount", "请输入正确的提现金额") from None
    try:
        doc = _services().members.withdrawals.apply(
            customer["HaiLanMemberInfo"]["memberID"], amount
        )
    except WithdrawalRefused as refused:
        raise BindingRefused(refused.status, refused.code, refused.message) from None
    return jsonify(
        {
            "ok": True,
            "withdrawal": {"id": str(doc["_id"]), "amount": amount / 100, "status": "pending"},
        }
    )


# -- shake -------------------------------------------------------------------------


@bp.get("/shake")
def shake_page():
    """The shake page: phone motion, with a button as fallback."""
    return _page("shake.html")


@bp.get("/api/shake")
def shake_status():
    """The running activity and the member's points."""
    openid = _openid()
    services = _services()
    activity = services.shake_activities.running()
    customer = services.records.customers.get(openid) or {}
    points = None
    if customer.get("isRegister"):
        points = services.members.points.balance(customer["HaiLanMemberInfo"]["memberID"])
    if activity is None:
        return jsonify({"ok": True, "activity": None, "points": points})
    return jsonify(
        {
            "ok": True,
            "points": points,
            "bound": bool(customer.get("isRegister")),
            "activity": {
                "aid": activity["_id"],
                "name": activity["name"],
                "points": activity["points"],
                "end": activity["end"],
                "prizes": [p["display_name"] for p in activity["prizes"]],
            },
        }
    )


@bp.post("/api/shake")
def shake():
    """``{aid, shakeId?}``: one shake; ``{ok, win, prize?, coupon_no?, points}``."""
    openid, body = _openid(), _json_body()
    shake_id = str(body.get("shakeId") or "")[:64] or None
    try:
        result = _services().shakes.shake(openid, body.get("aid") or None, shake_id)
    except ShakeRefused as refused:
        raise BindingRefused(refused.status, refused.code, refused.message) from None
    answer = {k: result[k] for k in ("win", "points", "message")}
    if result["win"]:
        answer.update(prize=result["prize"], coupon_no=result["coupon_no"])
    return jsonify({"ok": True, **answer})

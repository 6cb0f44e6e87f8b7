"""``/m``: the member's H5 pages and their JSON API, for the member of the session only
(``wxmember.web.member_session``): binding, shaking, withdrawals here, the member center in
``wxmember.web.center_pages`` (on this blueprint). Answers are ``{"ok": true, ...}`` or a 4xx with
``{"ok": false, "error": code, "message": 中文}``.
"""

import functools
import hashlib
import logging
from pathlib import Path

from flask import Blueprint, current_app, jsonify, request

from wxmember.binding.service import BindingRefused
from wxmember.logsafe import mask
from wxmember.members.transactions import InvalidTransaction, to_fen
from wxmember.records.member_card import bound_member_id, is_bound
from wxmember.web import api_schema, coupon_api, present
from wxmember.web.member_session import current_openid, json_body, page_or_login

log = logging.getLogger(__name__)

STATIC = Path(__file__).with_name("static")
# the member pages' own files (WeUI, under vendor/, is named by its version)
bp = Blueprint(
    "member", __name__, url_prefix="/m", static_folder="static", static_url_path="/static"
)
bp.register_blueprint(coupon_api.member_bp)  # /m/api/coupons… (seed 003)


def _services():
    return current_app.extensions["wxmember"]


@bp.before_request
def _session_then_document():
    """The JSON API: the member's session first (401), then the request as documented (400)."""
    if request.path.startswith("/m/api/"):
        current_openid()
        return api_schema.check_request()
    return None


@bp.after_request
def _personal(response):
    """A member's page is the member's own: kept by no cache, asked again on WeChat's back."""
    if response.mimetype == "text/html":
        response.headers["Cache-Control"] = "no-store"
    return response


@bp.context_processor
def _helpers():
    return {
        "asset_version": asset_version(),
        "yuan": present.yuan,
        "when": present.when,
        "today": present.when(_services().clock.now_ms(), day_only=True),
    }


@functools.cache
def asset_version():
    """A short digest of member.css and member.js: a changed file is fetched anew."""
    digest = hashlib.sha256()
    for name in ("member.css", "member.js"):
        digest.update((STATIC / name).read_bytes())
    return digest.hexdigest()[:10]


# -- pages ---------------------------------------------------------------------


@bp.get("/bind")
def bind_page():
    """The card binding page (mobile layout, Simplified Chinese)."""
    return page_or_login("bind.html")


# -- JSON API ------------------------------------------------------------------


@bp.post("/api/sms")
def send_sms():
    """Text a code: ``{mobile}`` to bind, or ``{purpose: "unbind"}`` to the bound mobile."""
    openid, body = current_openid(), json_body()
    purpose = "unbind" if body.get("purpose") == "unbind" else "bind"
    sent = _services().binding.send_code(openid, body.get("mobile"), purpose)
    log.info("SMS code requested by %s for %s", mask(openid), purpose)
    return jsonify({"ok": True, **sent})


@bp.post("/api/bind")
def bind():
    """``{mobile, code, cardNumber?, name?}``: bind the card of the mobile, or open one."""
    openid, body = current_openid(), json_body()
    result = _services().binding.bind(
        openid, body.get("mobile"), body.get("code"), body.get("cardNumber"), body.get("name")
    )
    return jsonify({"ok": True, **result})


@bp.post("/api/unbind")
def unbind():
    """``{code}``: end the binding, confirmed by the code sent to the bound mobile."""
    openid, body = current_openid(), json_body()
    return jsonify({"ok": True, **_services().binding.unbind(openid, body.get("code"))})


@bp.post("/api/withdrawals")
def apply_withdrawal():
    """``{amount}`` (yuan): a bound member applies to withdraw earnings; staff decide."""
    openid, body = current_openid(), json_body()
    _, member_id = _services().center.bound_member(openid)  # 409 not_bound without a card
    try:
        amount = to_fen(body.get("amount"), "amount")
    except InvalidTransaction:
        raise BindingRefused(400, "invalid_amount", "请输入正确的提现金额") from None
    doc = _services().members.withdrawals.apply(member_id, amount)
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
    return page_or_login("shake.html")


@bp.get("/api/shake")
def shake_status():
    """The running activity and the member's points."""
    openid = current_openid()
    services = _services()
    activity = services.shake_activities.running()
    customer = services.records.customers.get(openid)
    bound = is_bound(customer)
    points = services.members.points.balance(bound_member_id(customer)) if bound else None
    if activity is None:
        return jsonify({"ok": True, "activity": None, "points": points, "bound": bound})
    return jsonify(
        {
            "ok": True,
            "points": points,
            "bound": bound,
            "remaining": services.shakes.remaining(activity, openid) if bound else None,
            "activity": {
                "aid": activity["_id"],
                "name": activity["name"],
                "points": activity["points"],
                "end": activity["end"],
                "cycle": activity["cycle"],
                "limit": activity["limit"],
                "prizes": [p["display_name"] for p in activity["prizes"]],
                "soldOut": [p["display_name"] for p in activity["prizes"] if p["stock"] <= 0],
            },
        }
    )


@bp.post("/api/shake")
def shake():
    """``{aid, shakeId?}``: one shake; ``{ok, win, prize?, coupon_no?, points}``."""
    openid, body = current_openid(), json_body()
    shake_id = str(body.get("shakeId") or "")[:64] or None
    result = _services().shakes.shake(openid, body.get("aid") or None, shake_id)
    answer = {k: result[k] for k in ("win", "points", "message")}
    answer["soldOut"] = bool(result.get("soldOut"))
    if result["win"] or answer["soldOut"]:
        answer["prize"] = result["prize"]
    if result["win"]:
        answer["coupon_no"] = result["coupon_no"]
    return jsonify({"ok": True, **answer})

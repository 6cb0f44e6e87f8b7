"""Coupons (seed 003 §四): ``staff_bp`` under the staff API (``/api/coupons``, its token) and
``member_bp`` under the member pages (``/m/api/coupons``, the member's session).

Definitions are rules: creating and editing them takes an admin (as grades and point
rules do); issuing one to a member takes an operator. Money is in yuan here.
"""

from flask import Blueprint, current_app, jsonify, request

from wxmember.members.coupons import remaining, rules_view
from wxmember.members.coupons import view as definition_view
from wxmember.members.transactions import form_id
from wxmember.members.wallet import member_view, staff_view
from wxmember.staff import role_allows
from wxmember.staff.accounts import ROLE_NAMES
from wxmember.web import checkout_api, redemption_api
from wxmember.web.console.api_access import current_actor
from wxmember.web.jsonerrors import json_error
from wxmember.web.jsonio import object_body
from wxmember.web.member_session import current_openid
from wxmember.web.redemption_api import known_member
from wxmember.web.session_member import bound_member, member_or_refuse

staff_bp = Blueprint("coupon_api", __name__)
member_bp = Blueprint("coupon_member_api", __name__)
staff_bp.register_blueprint(checkout_api.bp)  # /api/checkout/…
staff_bp.register_blueprint(redemption_api.staff_bp)  # /api/redemptions…
member_bp.register_blueprint(redemption_api.member_bp)  # /m/api/redemptions…
ADMIN_ENDPOINTS = {"create_coupon", "edit_coupon", "save_settings", "create_item"}  # rules
ADMIN_ENDPOINTS |= {"set_item_active", "add_item_stock", "change_item"}  # redemption items


def _services():
    return current_app.extensions["wxmember"]


@staff_bp.before_request
def _rules_are_for_admins():
    """Definitions are rules: an operator's token may issue coupons but not define them."""
    endpoint = (request.endpoint or "").rsplit(".", 1)[-1]
    if endpoint not in ADMIN_ENDPOINTS:
        return None
    role = current_actor().role
    if role_allows(role, "admin"):
        return None
    return json_error(
        403, "forbidden", f"角色“{ROLE_NAMES[role]}”无权执行此操作（需要{ROLE_NAMES['admin']}）"
    )


# -- definitions ---------------------------------------------------------------------


@staff_bp.get("/coupons")
def list_coupons():
    """Every coupon definition, newest first, with its state and counters."""
    services = _services()
    now = services.clock.now_ms()
    definitions = services.members.coupons
    return jsonify({"items": [definition_view(c, now) for c in definitions.all()]})


@staff_bp.post("/coupons")
def create_coupon():
    """Define a coupon: ``{ok, couponId, coupon}``."""
    services = _services()
    coupon = services.members.coupons.create(object_body())
    return jsonify(
        {
            "ok": True,
            "couponId": coupon["_id"],
            "coupon": definition_view(coupon, services.clock.now_ms()),
        }
    )


@staff_bp.get("/coupons/<coupon_id>")
def get_coupon(coupon_id):
    """One definition."""
    services = _services()
    coupon = services.members.coupons.get(coupon_id)
    if coupon is None:
        return json_error(404, "unknown_coupon", "没有这张券")
    return jsonify({"ok": True, "coupon": definition_view(coupon, services.clock.now_ms())})


@staff_bp.post("/coupons/<coupon_id>")
def edit_coupon(coupon_id):
    """Replace the rules of a coupon that has not started; 409 ``coupon_started`` after."""
    services = _services()
    coupon = services.members.coupons.update(coupon_id, object_body())
    return jsonify(
        {
            "ok": True,
            "couponId": coupon["_id"],
            "coupon": definition_view(coupon, services.clock.now_ms()),
        }
    )


# -- issuing, holders ------------------------------------------------------------------


@staff_bp.post("/coupons/<coupon_id>/issue")
def issue_coupon(coupon_id):
    """``{memberID, formId}``: give the member a coupon, once per formId, within its stock."""
    services, body = _services(), object_body()
    member_id = known_member(body.get("memberID"))
    key = f"staff:{coupon_id}:{member_id}:{form_id(body.get('formId'))}"
    held = services.members.wallet.issue(member_id, coupon_id, key, "staff")
    now = services.clock.now_ms()
    return jsonify({"ok": True, "couponNo": held["_id"], "coupon": staff_view(held, now)})


@staff_bp.get("/coupons/<coupon_id>/holders")
def coupon_holders(coupon_id):
    """The coupons issued of one definition, newest first (seed 003's 子表)."""
    services = _services()
    if services.members.coupons.get(coupon_id) is None:
        return json_error(404, "unknown_coupon", "没有这张券")
    limit = request.args.get("limit", 100, type=int)
    now = services.clock.now_ms()
    held = services.members.wallet.of_coupon(coupon_id, limit)
    return jsonify({"items": [staff_view(coupon, now) for coupon in held]})


@staff_bp.get("/members/<int:member_id>/coupons")
def member_coupons(member_id):
    """A member's coupons, newest first."""
    services = _services()
    now = services.clock.now_ms()
    held = services.members.wallet.of_member(known_member(member_id))
    return jsonify({"items": [staff_view(coupon, now) for coupon in held]})


# -- the member's own ------------------------------------------------------------------


@member_bp.get("/api/coupons")
def my_coupons():
    """The member's coupons (valid, used, expired), newest first; none before binding."""
    services, member_id = _services(), bound_member()
    if member_id is None:
        return jsonify({"ok": True, "bound": False, "items": []})
    return jsonify(
        {"ok": True, "bound": True, "items": services.members.wallet.for_member(member_id)}
    )


def claimable_for_member(member_id):
    """The coupons the member may claim now, with how many the member has claimed (the
    API's items, and the 领券 tab of the coupons page)."""
    return [
        {
            "couponId": coupon["_id"],
            **rules_view(coupon),
            "end": coupon["end"],
            "validDays": coupon["validDays"],
            "remaining": remaining(coupon),
            "perMember": coupon["perMember"],
            "claimed": claimed,
            "canClaim": claimed < coupon["perMember"],
        }
        for coupon, claimed in _services().members.wallet.claimable(member_id)
    ]


@member_bp.get("/api/coupons/claimable")
def claimable_coupons():
    """The coupons the member may claim now, with how many the member has claimed."""
    return jsonify({"ok": True, "items": claimable_for_member(member_or_refuse())})


@member_bp.post("/api/coupons/<coupon_id>/claim")
def claim_coupon(coupon_id):
    """``{requestId?}``: claim a coupon; ``{ok, couponNo, coupon}``."""
    services, member_id = _services(), member_or_refuse()
    request_id = object_body().get("requestId") or None
    held = services.members.wallet.claim(member_id, coupon_id, request_id)
    data = {"memberID": member_id, "couponId": coupon_id, "couponNo": held["_id"]}
    services.records.logs.append(current_openid(), "coupon_claim", data)
    now = services.clock.now_ms()
    return jsonify({"ok": True, "couponNo": held["_id"], "coupon": member_view(held, now)})

"""Coupons (seed 003 §四) for staff: ``/api/coupons``, mounted under the staff API (its token).

Definitions are rules: creating and editing them takes an admin (as grades and point
rules do); issuing one to a member takes an operator. Money is in yuan here.
"""

from flask import Blueprint, current_app, jsonify, request

from wxmember.members.coupons import view as definition_view
from wxmember.staff import role_allows
from wxmember.staff.accounts import ROLE_NAMES
from wxmember.web.console.api_access import current_actor
from wxmember.web.jsonerrors import json_error

staff_bp = Blueprint("coupon_api", __name__)
ADMIN_ENDPOINTS = {"create_coupon", "edit_coupon"}  # rules: admins only (api_access: operator)


def _services():
    return current_app.extensions["wxmember"]


def _body():
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else {}


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
    coupon = services.members.coupons.create(_body())
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
    coupon = services.members.coupons.update(coupon_id, _body())
    return jsonify(
        {
            "ok": True,
            "couponId": coupon["_id"],
            "coupon": definition_view(coupon, services.clock.now_ms()),
        }
    )

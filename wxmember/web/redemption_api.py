"""积分兑换: ``staff_bp`` (``/api/redemptions``: items, a redemption for a member) and
``member_bp`` (``/m/api/redemptions``: the member's own), mounted by ``coupon_api``."""

from flask import Blueprint, current_app, jsonify

from wxmember.members.coupons import CouponRefused
from wxmember.members.redemption import InvalidItem, item_view, redemption_view
from wxmember.members.transactions import form_id
from wxmember.web.jsonerrors import json_error
from wxmember.web.jsonio import object_body
from wxmember.web.member_session import current_openid
from wxmember.web.session_member import bound_member, member_or_refuse

staff_bp = Blueprint("redemption_api", __name__)
member_bp = Blueprint("redemption_member_api", __name__)


def _services():
    return current_app.extensions["wxmember"]


def known_member(member_id):
    """``member_id`` if the platform knows the member, else a 404 (nothing is written)."""
    if not _services().members.knows(member_id):
        raise CouponRefused("unknown_member", f"平台上没有会员 {member_id}", 404)
    return member_id


@staff_bp.get("/redemptions")
def list_items():
    """Every redemption item, newest first."""
    items = _services().members.redemptions.all()
    return jsonify({"items": [item_view(item) for item in items]})


@staff_bp.post("/redemptions")
def create_item():
    """``{name, points, stock, couponId?, description?}``: put an item on offer (admins)."""
    item = _services().members.redemptions.create(object_body())
    return jsonify({"ok": True, "itemId": item["_id"], "item": item_view(item)})


def _item_answer(item):
    if item is None:
        return json_error(404, "unknown_item", "没有这个兑换品")
    return jsonify({"ok": True, "item": item_view(item)})


@staff_bp.post("/redemptions/<item_id>")
def change_item(item_id):
    """``{name, points, description?}``: rename or reprice an item (admins)."""
    return _item_answer(_services().members.redemptions.change(item_id, object_body()))


@staff_bp.post("/redemptions/<item_id>/active")
def set_item_active(item_id):
    """``{active}``: put the item on offer (上架) or take it off (下架) (admins)."""
    active = object_body().get("active")
    if not isinstance(active, bool):
        raise InvalidItem("active must be true or false", "active 必须是 true 或 false")
    return _item_answer(_services().members.redemptions.set_active(item_id, active))


@staff_bp.post("/redemptions/<item_id>/stock")
def add_item_stock(item_id):
    """``{add}``: add that many to the item's stock (补库存) (admins)."""
    return _item_answer(
        _services().members.redemptions.add_stock(item_id, object_body().get("add"))
    )


@staff_bp.post("/redemptions/<item_id>/redeem")
def redeem_for_member(item_id):
    """``{memberID, formId}``: redeem for a member (at the counter), once per formId."""
    services, body = _services(), object_body()
    member_id = known_member(body.get("memberID"))
    key = f"staff-redeem:{item_id}:{member_id}:{form_id(body.get('formId'))}"
    record = services.members.redemptions.redeem(member_id, item_id, key)
    balance = services.members.points.balance(member_id)
    return jsonify({"ok": True, **redemption_view(record, balance)})


def redemptions_for_member(member_id):
    """``{points, items}`` the member's page shows."""
    members = _services().members
    return {
        "points": members.points.balance(member_id),
        "items": [item_view(item) for item in members.redemptions.all(offered_only=True)],
        "redeemed": [redemption_view(r) for r in members.redemptions.of_member(member_id)],
    }


@member_bp.get("/api/redemptions")
def my_redemptions():
    """Items on offer, the member's points and redemptions (none before binding)."""
    member_id = bound_member()
    if member_id is None:
        return jsonify({"ok": True, "bound": False, "points": None, "items": [], "redeemed": []})
    return jsonify({"ok": True, "bound": True, **redemptions_for_member(member_id)})


@member_bp.post("/api/redemptions/<item_id>")
def redeem(item_id):
    """``{requestId?}``: exchange points for the item; a repeated requestId is one."""
    services, member_id = _services(), member_or_refuse()
    request_id = object_body().get("requestId") or str(services.clock.now_ms() // 2000)
    key = f"redeem:{item_id}:{member_id}:{request_id}"
    record = services.members.redemptions.redeem(member_id, item_id, key)
    data = {"memberID": member_id, "itemId": item_id, "points": record["points"]}
    services.records.logs.append(current_openid(), "points_redeem", data)
    balance = services.members.points.balance(member_id)
    return jsonify({"ok": True, **redemption_view(record, balance)})

"""``/api/checkout``: quotes and commits of seed 003 §七, and its settings (staff API).

Mounted under ``coupon_api.staff_bp`` (the staff token; its settings take an admin).
"""

from flask import Blueprint, current_app, jsonify

from wxmember.members.checkout_commit import answer
from wxmember.members.transactions import form_id, yuan
from wxmember.web.jsonio import object_body

bp = Blueprint("checkout_api", __name__)


def _checkout():
    return current_app.extensions["wxmember"].members.checkout


@bp.get("/checkout/settings")
def get_settings():
    """积分抵扣比例 (points per yuan, cap) and the 优惠规则 order in force."""
    return jsonify({"ok": True, "settings": _checkout().settings.get()})


@bp.post("/checkout/settings")
def save_settings():
    """Change the order (ranks 1–3 of coupon, grade, points), the points rate or cap."""
    return jsonify({"ok": True, "settings": _checkout().settings.save(object_body())})


@bp.post("/checkout/quote")
def quote():
    """``{memberID, amount, items?, coupons, points, useGrade?}``: the steps and the total."""
    return jsonify({"ok": True, **_checkout().quote(object_body()).answer()})


@bp.post("/checkout/commit")
def commit():
    """The quote's body plus ``formId``: coupons used, points spent, the purchase recorded,
    once per formId (a repeat answers the first commit)."""
    body = object_body()
    record = _checkout().commit(body, form_id(body.get("formId")))
    return jsonify({"ok": True, **answer(record)})


@bp.post("/checkout/refund")
def refund():
    """``{formId, refundFormId}``: give back what is left of a checkout — its points, its
    coupons — once per refundFormId."""
    body = object_body()
    checkout = _checkout()
    applied = checkout.refund(
        form_id(body.get("formId")), form_id(body.get("refundFormId"), "refundFormId")
    )
    record = checkout.get(applied["refundOf"])
    effects = applied.get("effects") or {}
    return jsonify(
        {
            "ok": True,
            "refundFormId": applied["formId"],
            "formId": applied["refundOf"],
            "amount": yuan(applied["amount"]),
            "pointsReturned": effects.get("pointsReturned", 0),
            "pointsReversed": effects.get("pointsReversed", 0),
            "couponsReturned": record.get("couponsReturned", []),
        }
    )

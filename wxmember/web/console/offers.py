"""Console: 积分兑换 (points redemption items). Everyone reads the items with their stock and
what is left; admins put one on offer through a form turned into the body of
``POST /api/redemptions`` (the same ``Redemptions.create`` and its checks), take one off
offer and put it back (下架/上架), rename or reprice it (``?edit=``) and add to its stock
(补库存). Every change is audited.
"""

from flask import redirect, request, url_for

from wxmember.members.coupons import describe
from wxmember.members.redemption import MAX_POINTS, item_view
from wxmember.refusals import Refused
from wxmember.web.console.auth import bp, log_change, refuse, requires, services
from wxmember.web.console.forms import Form, form_page

MAX_ADD = 1_000_000  # units added at once
NOTICES = {
    "created": "兑换品已上架，会员现在可以用积分兑换。",
    "off": "已下架：会员看不到也不能兑换该礼品，已兑换的不受影响。",
    "on": "已重新上架。",
    "stocked": "库存已补充。",
    "changed": "兑换品已修改：之后的兑换按新的名称和积分。",
}
EMPTY_FORM = {"name": "", "points": "", "stock": "", "couponId": "", "description": ""}


def _row(item, coupon_names):
    coupon_id = item["couponId"]
    coupon = None if coupon_id is None else coupon_names.get(coupon_id, coupon_id)
    return {**item_view(item), "coupon": coupon}


@bp.get("/redemptions")
@requires("viewer")
def redemptions():
    """Every redemption item with its stock; admins add one, take one off offer, restock."""
    return _page()


def _page(status=200, error="", form=None, stock_error="", editing_id=None):
    members = services().members
    coupons = members.coupons.all()
    names = {coupon["_id"]: coupon["name"] for coupon in coupons}
    items = members.redemptions.all()
    editing_id = editing_id or request.args.get("edit")
    editing = next((item for item in items if item["_id"] == editing_id), None)
    if form is None and editing is not None:
        form = {key: str(editing[key] or "") for key in EMPTY_FORM}
    return form_page(
        "console/redemptions.html",
        NOTICES,
        status,
        error,
        rows=[_row(item, names) for item in items],
        editing=editing and _row(editing, names),
        coupons=[
            (c["_id"], f"{c['name']}（{describe(c)}）")
            for c in coupons
            if c["purpose"] == "redemption"
        ],
        form=form or EMPTY_FORM,
        stock_error=stock_error,
    )


def item_body(values):
    """The API's item body from the form (the coupon left on "不发券" is none)."""
    form = Form(values)
    return {
        "name": form.text("name", "名称", longest=100),
        "points": form.whole("points", "所需积分", minimum=1, maximum=MAX_POINTS),
        "stock": form.whole("stock", "库存", minimum=1, maximum=MAX_POINTS),
        "couponId": form.raw("couponId") or None,
        "description": form.text("description", "说明", required=False, longest=500),
    }


@bp.post("/redemptions")
@requires("admin")
def create_redemption():
    """Put a new item on offer."""
    try:
        item = services().members.redemptions.create(item_body(request.form))
    except Refused as refused:
        return _page(400, refused.zh, dict(request.form))
    details = {key: item[key] for key in ("name", "points", "stock", "couponId")}
    log_change("redemption.create", f"redemption:{item['_id']}", details)
    return redirect(url_for("console.redemptions", done="created"))


@bp.post("/redemptions/<item_id>")
@requires("admin")
def change_redemption(item_id):
    """Rename, reprice or describe an item (its stock and coupon stay)."""
    form = Form(request.form)
    try:
        body = {
            "name": form.text("name", "名称", longest=100),
            "points": form.whole("points", "所需积分", minimum=1, maximum=MAX_POINTS),
            "description": form.text("description", "说明", required=False, longest=500),
        }
        item = services().members.redemptions.change(item_id, body)
    except Refused as refused:
        return _page(400, refused.zh, dict(request.form), editing_id=item_id)
    if item is None:
        return refuse(404, "没有找到该兑换品。")
    log_change("redemption.change", f"redemption:{item_id}", body)
    return redirect(url_for("console.redemptions", done="changed"))


@bp.post("/redemptions/<item_id>/<any(on, off):state>")
@requires("admin")
def set_redemption_active(item_id, state):
    """上架 (``on``) or 下架 (``off``) an item."""
    item = services().members.redemptions.set_active(item_id, state == "on")
    if item is None:
        return refuse(404, "没有找到该兑换品。")
    details = {"name": item["name"], "active": item["active"]}
    log_change("redemption.active", f"redemption:{item_id}", details)
    return redirect(url_for("console.redemptions", done=state))


@bp.post("/redemptions/<item_id>/stock")
@requires("admin")
def add_redemption_stock(item_id):
    """补库存: add a positive whole number of units to the item's stock."""
    redemptions = services().members.redemptions
    try:
        count = Form(request.form).whole("add", "补充数量", minimum=1, maximum=MAX_ADD)
        item = redemptions.add_stock(item_id, count)
    except Refused as refused:
        found = next((i for i in redemptions.all() if i["_id"] == item_id), None)
        name = f"「{found['name']}」" if found else ""
        return _page(400, stock_error=f"{name}补库存未成功：{refused.zh}")
    if item is None:
        return refuse(404, "没有找到该兑换品。")
    log_change(
        "redemption.stock",
        f"redemption:{item_id}",
        {"name": item["name"], "add": count, "stock": item["stock"]},
    )
    return redirect(url_for("console.redemptions", done="stocked"))

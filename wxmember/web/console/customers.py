"""Console: find a customer (openid, mobile, card number, member id) and see everything
about them: record, binding, grade, the four ledgers, transactions, coupons, shakes,
feed items and logs. Operators adjust points (with a reason) and lock the grade.
"""

from flask import abort, g, make_response, redirect, render_template, request, url_for

from wxmember.members.checkout_commit import answer as checkout_answer
from wxmember.members.grades import LOCK
from wxmember.members.ledger import KINDS, InsufficientBalance
from wxmember.records.member_card import bound_card, bound_member_id, card_of
from wxmember.refusals import Refused
from wxmember.staff import role_allows
from wxmember.web.console.auth import bp, log_change, refuse, requires, services
from wxmember.web.console.coupons import held_row, issue, issuing_now
from wxmember.web.console.forms import form_id_of, new_form_id
from wxmember.web.console.present import (
    CARD_TYPES,
    LEDGER_NAMES,
    action_name,
    fields,
    mask_data,
    shown_number,
    when,
    when_s,
)

SHOWN = 10  # rows of each list on the page
MAX_POINTS = 1_000_000_000
TX_TYPES = {"purchase": "消费", "recharge": "充值", "refund": "退款"}
TX_STATUS = {"applied": "已入账", "applying": "处理中", "refused": "已拒绝"}
CHECKOUT_STATES = {"pending": "处理中", "done": "已完成", "refused": "未成功"}
DRAW_STATES = {"done": "完成", "refused": "未成功", "drawing": "确认中", "returned": "已退回"}
NOTICES = {
    "points": "积分已调整。",
    "locked": "已锁定会员等级：等级评估不再改变它。",
    "unlocked": "已解除等级锁定。",
    "issued": "优惠券已发放。",
}


@bp.get("/customers")
@requires("viewer")
def customers():
    """Search by openid, mobile, card number or member id; one match opens its page."""
    query = request.args.get("q", "").strip()[:64]
    found = _search(query) if query else []
    if len(found) == 1:
        return redirect(url_for("console.customer", wxid=found[0]["wechatid"]))
    rows = [_summary_row(customer) for customer in found]
    return render_template("console/customers.html", query=query, rows=rows)


def _search(query):
    return services().records.customers.find(query)


def _summary_row(customer):
    card = bound_card(customer)
    bound = card is not None
    return {
        "wechatid": customer["wechatid"],
        "nickname": customer.get("nickname", ""),
        "mobile": _shown(customer.get("mobile")) if bound else "",
        "card": _shown(card.card_number) if bound else "",
        "bound": bound,
    }


def _shown(number):
    """A mobile or card number as this staff member may see it."""
    return shown_number(number, g.actor.masked)


@bp.get("/customers/<wxid>")
@requires("viewer")
def customer(wxid):
    """Everything the platform knows about one customer."""
    found = services().records.customers.get(wxid)
    if found is None:
        return refuse(404, f"没有找到用户 {wxid}。")
    return render_template("console/customer.html", **_view(found))


def _view(customer, status=200, error="", amount="", reason=""):
    wxid = customer["wechatid"]
    card = card_of(customer)
    member_id = bound_member_id(customer)
    view = {
        "c": customer,
        "wxid": wxid,
        "bound": member_id is not None,
        "member_id": member_id,
        "mobile": _shown(customer.get("mobile")),
        "card": _shown(card.card_number if card else None),
        "card_type": CARD_TYPES.get(card.card_type, card.card_type or "") if card else "",
        "follow_time": when_s(customer.get("followTime")),
        "when": when,
        "error": error,
        "notice": NOTICES.get(request.args.get("done", ""), ""),
        "amount": amount,
        "reason": reason,
        "form_id": new_form_id(),
        "coupons": [win for win in customer.get("shake", []) if win.get("coupon_no")][-SHOWN:][
            ::-1
        ],
        "feeds": services().records.feeds.recent(wxid, SHOWN),
        "draws": [
            {**draw, "state_name": DRAW_STATES.get(draw.get("state"), draw.get("state"))}
            for draw in services().shakes.recent_of(wxid, SHOWN)
        ],
        "logs": _logs(wxid),
    }
    if member_id is not None:
        view.update(_member(member_id))
    return view


def _logs(wxid):
    records, _ = services().records.logs.query(wxid=wxid, limit=SHOWN)
    masked = g.actor.masked
    return [
        {
            "time": when(record["createTime"]),
            "action_name": action_name(record["action"]),
            "fields": fields(mask_data(record.get("data")) if masked else record.get("data")),
        }
        for record in records
    ]


def _member(member_id):
    system = services().members
    balances = system.ledger.balances(member_id)
    data = system.grades.member_if_known(member_id) or {}
    # a member without grade data yet is at the lowest grade (where the first look puts it)
    grade = system.grades.get(data["GradeID"]) if data else system.grades.lowest()
    names = services().staff.accounts.usernames_by_user_id()
    ledgers = []
    for kind, ledger in KINDS.items():
        scale = 1 if kind == "points" else 100
        rows = system.ledger.rows(kind, member_id, SHOWN)
        ledgers.append(
            {
                "kind": kind,
                "name": LEDGER_NAMES[kind],
                "balance": _amount(balances[kind], scale),
                "rows": [
                    {
                        **row,
                        "amount": _amount(row[ledger.amount_field], scale),
                        "balance": _amount(row["Balance"], scale),
                        "operator": _operator(row.get("CreateUser"), names),
                    }
                    for row in rows
                ],
            }
        )
    transactions = [
        {
            **tx,
            "type_name": TX_TYPES.get(tx["type"], tx["type"]),
            "status_name": TX_STATUS.get(tx.get("status"), tx.get("status")),
            "yuan": _amount(tx["amount"], 100),
        }
        for tx in system.transactions.recent(member_id, SHOWN)
    ]
    return {
        "grade": grade,
        "grade_date": when(data.get("GradeDate")),
        "locked": LOCK in data.get("Purview", []),
        "ledgers": ledgers,
        "transactions": transactions,
        **_offers(member_id),
    }


def _offers(member_id):
    """The member's coupons of the brand, checkouts and points redemptions."""
    system, now = services().members, services().clock.now_ms()
    checkouts = [
        {
            **checkout_answer(record),
            "createTime": record["createTime"],
            "status_name": CHECKOUT_STATES.get(record["status"], record["status"]),
        }
        for record in system.checkout.recent(member_id, SHOWN)
    ]
    return {
        "held": [held_row(held, now) for held in system.wallet.of_member(member_id, SHOWN)],
        "issuable": issuing_now() if role_allows(g.actor.role, "operator") else [],
        "checkouts": checkouts,
        "redemptions": system.redemptions.of_member(member_id, SHOWN),
    }


def _amount(value, scale):
    return f"{value:,}" if scale == 1 else f"{value / scale:,.2f}"


def _operator(user_id, names):
    if not user_id:
        return "系统"
    return names.get(user_id, f"#{user_id}")


# -- staff actions -----------------------------------------------------------------


def _bound_member(wxid, cannot):
    """The customer and its member id; a 404 page ("该用户未绑定会员卡，不能…") if unbound."""
    customer = services().records.customers.get(wxid)
    member_id = bound_member_id(customer) if customer else None
    if member_id is None:
        abort(make_response(refuse(404, f"该用户未绑定会员卡，不能{cannot}。")))
    return customer, member_id


@bp.post("/customers/<wxid>/points")
@requires("operator")
def adjust_points(wxid):
    """Add or take points with a reason; once per form (a second submit changes nothing)."""
    customer, member_id = _bound_member(wxid, "调整积分")
    amount_text = request.form.get("amount", "").strip()
    reason = request.form.get("reason", "").strip()
    form_id = form_id_of(request.form)

    def again(status, message):
        return _again(customer, status, message, amount=amount_text, reason=reason)

    try:
        amount = int(amount_text)
    except ValueError:
        return again(400, "调整数量须为整数（负数表示扣减）。")
    if not 0 < abs(amount) <= MAX_POINTS:
        return again(400, f"调整数量须为非零整数，绝对值不超过{MAX_POINTS:,}。")
    if not 0 < len(reason) <= 200:
        return again(400, "请填写调整原因（不超过200字）。")
    points = services().members.points
    if points.ledger.row("points", f"adjust:{form_id}") is not None:  # the form sent twice
        return redirect(url_for("console.customer", wxid=wxid, done="points") + "#points")
    try:
        row = points.adjust(member_id, amount, reason, form_id, operator=g.actor.user_id)
    except InsufficientBalance as short:
        return again(409, f"积分不足：当前余额 {short.balance}，不能扣减 {abs(amount)}。")
    log_change(
        "points.adjust",
        f"member:{member_id}",
        {"wxid": wxid, "amount": amount, "reason": reason, "formId": form_id, "row": row["_id"]},
    )
    return redirect(url_for("console.customer", wxid=wxid, done="points") + "#points")


@bp.post("/customers/<wxid>/coupons")
@requires("operator")
def issue_to_customer(wxid):
    """Give the member one coupon chosen from those issuing now, once per form."""
    customer, member_id = _bound_member(wxid, "发券")
    form_id = form_id_of(request.form)
    coupon_id = request.form.get("couponId", "").strip()[:64]
    if not coupon_id:
        return _again(customer, 400, "请选择要发放的优惠券。")
    try:
        issue(member_id, coupon_id, form_id)
    except Refused as refused:
        return _again(customer, refused.status, refused.zh)
    return redirect(url_for("console.customer", wxid=wxid, done="issued") + "#member-coupons")


def _again(customer, status, message, **typed):
    """The customer's page again, with ``message`` above it (and what was typed)."""
    view = _view(customer, error=message, **typed)
    return render_template("console/customer.html", **view), status


@bp.post("/customers/<wxid>/grade-lock")
@requires("operator")
def grade_lock(wxid):
    """Lock (``lock=1``) or unlock (``lock=0``) the member's grade."""
    _, member_id = _bound_member(wxid, "锁定等级")
    lock = request.form.get("lock") == "1"
    services().members.grades.set_member(member_id, lock=lock)
    log_change("grade.lock" if lock else "grade.unlock", f"member:{member_id}", {"wxid": wxid})
    done = "locked" if lock else "unlocked"
    return redirect(url_for("console.customer", wxid=wxid, done=done) + "#grade")

"""Console: the brand's own coupons (seed 003 §四 优惠券) — every definition with its state
and counters; one coupon with the coupons issued of it (its 子表); admins define a coupon
and change it until it starts; operators issue one to a member.

The definition form (``coupon_form``) is turned into the body ``POST /api/coupons`` takes
and handed to the same ``CouponDefinitions``: the same checks, refusals shown in Chinese.
Money is typed and shown in yuan.
"""

from datetime import datetime

from flask import Response, g, redirect, request, stream_with_context, url_for

from wxmember.members.coupons import KINDS, STATES, CouponRefused, state, view
from wxmember.members.wallet import STATUS_NAMES, staff_view
from wxmember.records.member_card import bound_member_id
from wxmember.refusals import Refused
from wxmember.timeparse import SHANGHAI
from wxmember.web.console import coupon_form, exports
from wxmember.web.console.auth import bp, log_change, refuse, requires, services
from wxmember.web.console.coupon_form import PURPOSES
from wxmember.web.console.forms import FormRefused, form_id_of, form_page, new_form_id
from wxmember.web.console.present import shown_number, when

SOURCES = {
    "claim": "会员领取",
    "staff": "员工发放",
    "birthday": "生日赠送",
    "upgrade": "升级赠送",
    "redemption": "积分兑换",
}
STACKING = (("stackGrade", "等级折扣"), ("stackPoints", "积分抵现"))
HOLDERS_SHOWN = 100
HOLDER_HEADER = [
    "券号",
    "会员编号",
    "会员",
    "手机号",
    "来源",
    "状态",
    "发放时间",
    "有效至",
    "使用时间",
    "使用单号",
]
NOTICES = {"created": "优惠券已创建。", "saved": "优惠券已修改。", "issued": "已发放给会员。"}


# -- what the pages show -------------------------------------------------------------


def validity_text(coupon):
    """How long an issued coupon is good: 发放后 30 天内有效, 至 … 有效, 长期有效."""
    if coupon["validDays"]:
        return f"发放后 {coupon['validDays']} 天内有效"
    if coupon["end"] is not None:
        return f"至 {when(coupon['end'])[:16]} 有效"
    return "长期有效"


def stacking_text(coupon):
    """可与等级折扣、积分抵现同用 / 不与等级折扣、积分抵现同用."""
    allowed = [name for flag, name in STACKING if coupon[flag]]
    if not allowed:
        return "不与等级折扣、积分抵现同用"
    refused = [name for flag, name in STACKING if not coupon[flag]]
    return "可与" + "、".join(allowed) + "同用" + (f"，不与{refused[0]}同用" if refused else "")


def _purpose_name(coupon, grade_names):
    name = PURPOSES[coupon["purpose"]]
    if coupon["grade"] is None:
        return name
    grade = grade_names.get(coupon["grade"], f"级别 {coupon['grade']}")
    return f"{name}（升到{grade}）"


def _row(coupon, now, grade_names):
    shown = view(coupon, now)
    return {
        **shown,
        "purpose_name": _purpose_name(coupon, grade_names),
        "from": when(coupon["start"])[:16],
        "to": when(coupon["end"])[:16] if coupon["end"] is not None else "不限",
        "validity": validity_text(coupon),
        "stock_text": "不限" if coupon["stock"] is None else f"{coupon['stock']:,}",
        "remaining_text": "不限" if shown["remaining"] is None else f"{shown['remaining']:,}",
        "products": "、".join(coupon["productIds"]) or "全部商品",
        "stacking": stacking_text(coupon),
    }


def held_row(held, now):
    """A coupon a member holds, as the coupon's and the customer's pages list it."""
    shown = staff_view(held, now)
    return {
        **shown,
        "source_name": SOURCES.get(held["source"], held["source"]),
        "status_name": STATUS_NAMES[shown["status"]],
    }


def issuing_now():
    """The coupons staff may issue now (open, stock left), newest first."""
    now = services().clock.now_ms()
    return [view(c, now) for c in services().members.coupons.all() if state(c, now) == "issuing"]


def issue(member_id, coupon_id, form_id):
    """Give the member one coupon, once per console form; audited. The coupon issued."""
    key = f"staff:{coupon_id}:{member_id}:{form_id}"
    held = services().members.wallet.issue(member_id, coupon_id, key, "staff")
    log_change(
        "coupon.issue",
        f"coupon:{coupon_id}",
        {"memberID": member_id, "couponNo": held["_id"], "formId": form_id},
    )
    return held


# -- the list and the definition form ----------------------------------------------------


@bp.get("/coupons")
@requires("viewer")
def coupons():
    """Every coupon (``?state=`` one of STATES); admins define one or change one
    that has not started (``?edit=couponId``)."""
    return _list_page()


def _list_page(status=200, error="", form=None, editing_id=None):
    now = services().clock.now_ms()
    grade_names = services().members.grades.names()
    definitions = services().members.coupons.all()
    rows = [_row(coupon, now, grade_names) for coupon in definitions]
    chosen = request.args.get("state", "")
    chosen = chosen if chosen in STATES else ""
    if chosen:
        rows = [row for row in rows if row["state"] == chosen]
    editing_id = editing_id or request.args.get("edit")
    editing = next((row for row in rows if row["couponId"] == editing_id), None)
    if form is None:
        form = coupon_form.form_of(definitions, editing, now)
    return form_page(
        "console/coupons.html",
        NOTICES,
        status,
        error,
        rows=rows,
        states=STATES,
        chosen=chosen,
        kinds=KINDS,
        purposes=PURPOSES,
        grades=grade_names,
        form=form,
        editing=editing if editing and editing["editable"] else None,
    )


@bp.post("/coupons")
@requires("admin")
def create_coupon():
    """Define a coupon from the form (checked as ``POST /api/coupons`` checks it)."""
    try:
        coupon = services().members.coupons.create(coupon_form.coupon_body(request.form))
    except Refused as refused:
        return _list_page(400, refused.zh, coupon_form.typed(request.form))
    log_change("coupon.create", f"coupon:{coupon['_id']}", _audited(coupon))
    return redirect(url_for("console.coupon", coupon_id=coupon["_id"], done="created"))


@bp.post("/coupons/<coupon_id>")
@requires("admin")
def edit_coupon(coupon_id):
    """Change a coupon that has not started (seed 003 §三); refused once it has."""
    try:
        coupon = services().members.coupons.update(coupon_id, coupon_form.coupon_body(request.form))
    except CouponRefused as refused:  # started meanwhile, or unknown
        return _coupon_page(coupon_id, refused.status, refused.zh)
    except Refused as refused:
        return _list_page(400, refused.zh, coupon_form.typed(request.form), coupon_id)
    log_change("coupon.update", f"coupon:{coupon_id}", _audited(coupon))
    return redirect(url_for("console.coupon", coupon_id=coupon_id, done="saved"))


def _audited(coupon):
    keep = ("name", "kind", "threshold", "value", "stock", "perMember", "start", "end", "purpose")
    return {key: coupon[key] for key in keep}


# -- one coupon: its holders, issuing ----------------------------------------------------


@bp.get("/coupons/<coupon_id>")
@requires("viewer")
def coupon(coupon_id):
    """One coupon: its rules, counters and the coupons issued of it (newest first)."""
    return _coupon_page(coupon_id)


def _coupon_page(coupon_id, status=200, error="", member=""):
    found = services().members.coupons.get(coupon_id)
    if found is None:
        return refuse(404, "没有找到这张优惠券。")
    now = services().clock.now_ms()
    standing = request.args.get("status", "")
    standing = standing if standing in STATUS_NAMES else None
    page = _holders_page(coupon_id, standing)
    holders = _with_customers([held_row(held, now) for held in page[:HOLDERS_SHOWN]])
    return form_page(
        "console/coupon.html",
        NOTICES,
        status,
        error,
        c=_row(found, now, services().members.grades.names()),
        holders=holders,
        shown=HOLDERS_SHOWN,
        paged=bool(request.args.get("after")),
        standing=standing,
        statuses=STATUS_NAMES,
        next_after=holders[-1]["couponNo"] if len(page) > HOLDERS_SHOWN else None,
        member=member,
        form_id=new_form_id(),
    )


def _holders_page(coupon_id, status):
    """One more than a page of the coupon's holders (``?after=couponNo``: older ones) of
    ``status`` (None: all)."""
    wallet = services().members.wallet
    after = request.args.get("after", "")[:64]
    last = wallet.get(after) if after else None
    if last is not None and last["couponId"] != coupon_id:
        last = None
    return wallet.of_coupon(coupon_id, HOLDERS_SHOWN + 1, last, status)


def _with_customers(rows):
    """Each holder with who it is on WeChat (seed 003's 子表: name and mobile), if bound."""
    customers = services().records.customers.bound_to_members(row["memberID"] for row in rows)
    for row in rows:
        customer = customers.get(row["memberID"]) or {}
        row["wxid"] = customer.get("wechatid")
        row["nickname"] = customer.get("nickname", "")
        row["mobile"] = shown_number(customer.get("mobile"), g.actor.masked)
    return rows


@bp.get("/coupons/<coupon_id>/holders.csv")
@requires("viewer")
def holders_csv(coupon_id):
    """Every coupon issued of it (seed 003's 子表) as CSV, streamed; audited (it names
    members and, for operators and admins, their mobiles)."""
    found = services().members.coupons.get(coupon_id)
    if found is None:
        return refuse(404, "没有找到这张优惠券。")
    log_change("coupon.export", f"coupon:{coupon_id}", {"issued": found["issued"]})
    rows = _holder_rows(coupon_id, services().clock.now_ms())
    chunks = exports.csv_chunks(rows, exports.Unwatched(), HOLDER_HEADER)
    stamp = datetime.now(SHANGHAI).strftime("%Y%m%d-%H%M%S")
    return Response(
        stream_with_context(chunk.encode("utf-8") for chunk in chunks),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f"attachment; filename=coupon-{coupon_id}-{stamp}.csv",
            "Content-Type": "text/csv; charset=utf-8",
        },
    )


def _holder_rows(coupon_id, now):
    for batch in services().members.wallet.scan_coupon(coupon_id):
        for row in _with_customers([held_row(held, now) for held in batch]):
            yield [
                row["couponNo"],
                row["memberID"],
                row["nickname"],
                row["mobile"],
                row["source_name"],
                row["status_name"],
                when(row["issuedAt"]),
                when(row["validUntil"]),
                when(row["usedAt"]),
                row["usedBy"] or "",
            ]


@bp.post("/coupons/<coupon_id>/issue")
@requires("operator")
def issue_coupon(coupon_id):
    """Give a member (member id, card number or mobile) one coupon, once per form."""
    typed = request.form.get("member", "").strip()[:64]
    form_id = form_id_of(request.form)
    try:
        issue(_member_of(typed), coupon_id, form_id)
    except Refused as refused:
        return _coupon_page(coupon_id, refused.status, refused.zh, typed)
    return redirect(url_for("console.coupon", coupon_id=coupon_id, done="issued") + "#holders")


def _member_of(typed):
    """The member id of what was typed: a member id, or a bound card number or mobile."""
    if not typed:
        raise FormRefused("请填写会员编号、卡号或手机号。")
    members = {
        bound_member_id(customer) for customer in services().records.customers.find(typed)
    } - {None}
    if len(members) == 1:
        return members.pop()
    if len(members) > 1:
        raise FormRefused(f"“{typed}”对应多位会员，请填写会员编号。")
    if typed.isascii() and typed.isdigit() and services().members.knows(int(typed)):
        return int(typed)
    raise FormRefused(f"没有找到会员“{typed}”：请填写会员编号、已绑定的卡号或手机号。")

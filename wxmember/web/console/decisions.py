"""Console: what operators decide — binding drift (marked handled with a note) and members'
withdrawal applications (approved or rejected, once). Viewers read both, masked."""

from bson import ObjectId
from bson.errors import InvalidId
from flask import g, redirect, request, url_for

from wxmember.members.money import PENDING
from wxmember.refusals import Refused
from wxmember.web.console.auth import bp, log_change, refuse, requires, services
from wxmember.web.console.forms import Form, form_page
from wxmember.web.console.present import (
    DRIFT_STATES,
    WITHDRAWAL_STATES,
    fields,
    mask_data,
    mask_digits,
    when,
    yuan,
)

SHOWN = 100  # rows a page
MOST_PAGES = 10_000
NOTICES = {
    "resolved": "已标记为已处理。若差异仍在，下一次绑定对账会重新列出。",
    "approve": "已通过该提现申请。",
    "reject": "已拒绝该提现申请，金额已退回会员的收益。",
}


def _paged(read):
    """``(rows, page, more)`` of the page ``?page=`` asks for: ``read(limit, skip)``."""
    page = max(1, min(request.args.get("page", 1, type=int), MOST_PAGES))
    rows = read(SHOWN + 1, (page - 1) * SHOWN)
    return rows[:SHOWN], page, len(rows) > SHOWN


# -- drift -------------------------------------------------------------------------


@bp.get("/drift")
@requires("viewer")
def drift():
    """Binding drift of one state (``?state=open`` by default, ``all`` for every item)."""
    return _drift_page()


def _drift_page(status=200, error=""):
    state = request.args.get("state", "open")
    state = state if state in DRIFT_STATES or state == "all" else "open"
    masked = g.actor.masked
    items, page, more = _paged(
        lambda limit, skip: services().drift.latest(None if state == "all" else state, limit, skip)
    )
    rows = [
        {
            **item,
            "state_name": DRIFT_STATES.get(item["state"], item["state"]),
            "fields": fields(mask_data(item.get("detail")) if masked else item.get("detail")),
        }
        for item in items
    ]
    return form_page(
        "console/drift.html",
        NOTICES,
        status,
        error,
        rows=rows,
        state=state,
        states=DRIFT_STATES,
        page=page,
        more=more,
    )


@bp.post("/drift/resolve")
@requires("operator")
def resolve_drift():
    """Mark an open item handled, with a note of what was done."""
    form = Form(request.form)
    drift_id = form.raw("id")[:300]
    try:
        note = form.text("note", "处理说明", longest=200)
    except Refused as refused:
        return _drift_page(400, refused.zh)
    item = services().drift.close(drift_id, g.actor.username, note)
    if item is None:
        return _drift_page(409, "该差异不存在或已处理，请刷新页面。")
    log_change(
        "drift.resolve",
        f"drift:{drift_id}",
        {"kind": item["kind"], "memberID": item["memberID"], "note": note},
    )
    return redirect(url_for("console.drift", done="resolved"))


# -- withdrawals -------------------------------------------------------------------


@bp.get("/withdrawals")
@requires("viewer")
def withdrawals():
    """Withdrawal applications of one status (``?status=0`` pending by default, ``all``)."""
    return _withdrawals_page()


def _withdrawals_page(status=200, error=""):
    chosen = request.args.get("status", str(PENDING))
    chosen = chosen if chosen in ("0", "1", "2", "all") else str(PENDING)
    names = services().staff.accounts.usernames_by_user_id()
    masked = g.actor.masked
    wanted = None if chosen == "all" else int(chosen)
    docs, page, more = _paged(
        lambda limit, skip: services().members.withdrawals.list(wanted, limit, skip)
    )
    rows = [
        {
            **doc,
            "id": str(doc["_id"]),
            "yuan": yuan(doc["Money"]),
            "state_name": WITHDRAWAL_STATES.get(doc["Status"], doc["Status"]),
            "bank": mask_digits(doc.get("BankInfo")) if masked else doc.get("BankInfo", ""),
            "verifier": _verifier(doc.get("VerifyID"), names),
        }
        for doc in docs
    ]
    return form_page(
        "console/withdrawals.html",
        NOTICES,
        status,
        error,
        rows=rows,
        chosen=chosen,
        states=WITHDRAWAL_STATES,
        pending=PENDING,
        when=when,
        page=page,
        more=more,
    )


def _verifier(user_id, names):
    if user_id is None:
        return ""
    return names.get(user_id, "系统" if user_id == 0 else f"#{user_id}")


@bp.post("/withdrawals/<withdrawal_id>/<any(approve, reject):decision>")
@requires("operator")
def decide_withdrawal(withdrawal_id, decision):
    """Approve (paid out) or reject (given back) a pending application, once."""
    try:
        oid = ObjectId(withdrawal_id)
    except (InvalidId, TypeError):
        return refuse(404, "没有找到该提现申请。")
    form = Form(request.form)
    try:
        label = "拒绝原因" if decision == "reject" else "备注"
        memo = form.text("memo", label, required=decision == "reject", longest=200)
        method = getattr(services().members.withdrawals, decision)
        doc = method(oid, operator=g.actor.user_id, memo=memo)
    except Refused as refused:
        return _withdrawals_page(409 if refused.status == 409 else 400, refused.zh)
    log_change(
        f"withdrawal.{decision}",
        f"withdrawal:{withdrawal_id}",
        {"memberID": doc["MemberID"], "amount": doc["Money"], "memo": memo},
    )
    return redirect(url_for("console.withdrawals", done=decision))

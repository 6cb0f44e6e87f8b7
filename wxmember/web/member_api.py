"""``/api`` for the member system: transactions, points, ledgers, money, withdrawals,
point rules, recharge promotions and grades. Mounted under the staff API (its auth).
"""

from bson import ObjectId
from bson.errors import InvalidId
from flask import Blueprint, current_app, jsonify, request

from wxmember.members.ledger import KINDS
from wxmember.members.transactions import MAX_ID, InvalidTransaction, form_id, parse, to_fen
from wxmember.web.console.api_access import current_actor
from wxmember.web.jsonerrors import json_error

bp = Blueprint("member_api", __name__)
MAX_POINTS = 1_000_000_000  # one staff adjustment


def _system():
    return current_app.extensions["wxmember"].members


def _body():
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise InvalidTransaction("invalid_body", "the body must be a JSON object")
    return body


def known_member(member_id):
    """``member_id`` if the platform knows the member, else a 404 (nothing is written)."""
    if not _system().knows(member_id):
        raise InvalidTransaction("unknown_member", f"no member {member_id} on the platform", 404)
    return member_id


# -- transactions, members -------------------------------------------------------


@bp.post("/transactions")
def post_transaction():
    """Apply a store transaction once per formId."""
    applied = _system().transactions.apply(parse(_body()))
    return jsonify({"ok": True, "transaction": applied})


@bp.get("/members/<int:member_id>")
def member_summary(member_id):
    """Points, money, frozen money, earnings and grade."""
    return jsonify({"ok": True, **_system().summary(known_member(member_id))})


@bp.post("/members/<int:member_id>")
def update_member(member_id):
    """``{FromID?, lockGrade?}``: referrer and the "锁定等级" permission."""
    body = _body()
    referrer = body.get("FromID")
    if referrer is not None and (
        isinstance(referrer, bool) or not isinstance(referrer, int) or not 0 < referrer < MAX_ID
    ):
        raise InvalidTransaction("invalid_member", "FromID must be a member id")
    lock = body.get("lockGrade")
    if lock is not None and not isinstance(lock, bool):
        raise InvalidTransaction("invalid_body", "lockGrade must be true or false")
    member = _system().grades.set_member(known_member(member_id), referrer, lock)
    return jsonify({"ok": True, "member": member})


@bp.post("/members/<int:member_id>/points")
def adjust_points(member_id):
    """``{amount, reason, formId}``: a staff adjustment; refused below zero."""
    body = _body()
    amount = body.get("amount")
    if isinstance(amount, bool) or not isinstance(amount, int) or not 0 < abs(amount) <= MAX_POINTS:
        raise InvalidTransaction(
            "invalid_points", f"amount must be a non-zero whole number of at most {MAX_POINTS}"
        )
    reason = body.get("reason")
    if not isinstance(reason, str) or not 0 < len(reason.strip()) <= 200:
        raise InvalidTransaction("invalid_reason", "reason is required (at most 200 characters)")
    form = form_id(body.get("formId"))
    row = _system().points.adjust(
        known_member(member_id), amount, reason.strip(), form, operator=current_actor().user_id
    )
    return jsonify({"ok": True, "row": ledger_row("points", row)})


@bp.get("/members/<int:member_id>/ledgers/<kind>")
def ledger_rows(member_id, kind):
    """Rows newest first with the balance after each; page with ``before`` (a row's seq)."""
    if kind not in KINDS:
        return json_error(404, "unknown_ledger", f"ledger must be one of {', '.join(KINDS)}")
    limit = request.args.get("limit", 50, type=int)
    before = request.args.get("before", type=int)
    if not 1 <= limit <= 500:
        raise InvalidTransaction("invalid_query", "limit must be between 1 and 500")
    rows = _system().ledger.rows(kind, known_member(member_id), limit, before)
    items = [ledger_row(kind, row) for row in rows]
    more = len(rows) == limit and rows[-1]["seq"] > 1
    return jsonify({"items": items, "next": rows[-1]["seq"] if more else None})


def ledger_row(kind, row):
    """A row as staff read it: seed columns, money in yuan, ``balance`` after it."""
    scale = 1 if kind == "points" else 100
    return {
        "id": row["_id"],
        "seq": row["seq"],
        "memberID": row["MemberID"],
        "formId": row["FormID"],
        "branch": row["Branch"],
        "source": row["Source"],
        "type": row["Type"],
        "subject": row["Subject"],
        "amount": row[KINDS[kind].amount_field] / scale,
        "balance": row["Balance"] / scale,
        "explain": row["Explain"],
        "memo": row["Memo"],
        "operator": row["CreateUser"],
        "time": row["CreateDate"],
    }


# -- money -------------------------------------------------------------------------


@bp.post("/members/<int:member_id>/money/<any(freeze, release):action>")
def move_frozen(member_id, action):
    """``{amount, formId}``: freeze money, or release frozen money."""
    body = _body()
    amount = to_fen(body.get("amount"), "amount")
    operation = getattr(_system().money, action)
    operation(
        known_member(member_id),
        amount,
        form_id(body.get("formId")),
        operator=current_actor().user_id,
    )
    return jsonify({"ok": True, **_system().summary(member_id)})


@bp.post("/members/<int:member_id>/earnings")
def credit_earnings(member_id):
    """``{amount, formId, summary}``: credit earnings (commission, reward)."""
    body = _body()
    amount = to_fen(body.get("amount"), "amount")
    row = _system().money.earn(
        known_member(member_id),
        amount,
        form_id(body.get("formId")),
        str(body.get("summary") or "收益"),
        operator=current_actor().user_id,
    )
    return jsonify({"ok": True, "row": ledger_row("earnings", row)})


@bp.get("/withdrawals")
def list_withdrawals():
    """Withdrawal applications, ``?status=0|1|2`` (pending, approved, rejected)."""
    status = request.args.get("status", type=int)
    return jsonify({"items": _system().withdrawals.list(status)})


@bp.post("/withdrawals/<withdrawal_id>/<any(approve, reject):decision>")
def decide_withdrawal(withdrawal_id, decision):
    """Approve (the money moves, once) or reject a pending withdrawal."""
    try:
        oid = ObjectId(withdrawal_id)
    except InvalidId:
        return json_error(404, "not_found", "no such withdrawal")
    memo = str((request.get_json(silent=True) or {}).get("memo") or "")
    doc = getattr(_system().withdrawals, decision)(oid, operator=current_actor().user_id, memo=memo)
    return jsonify({"ok": True, "withdrawal": doc})


# -- definitions -------------------------------------------------------------------


@bp.route("/point-rules", methods=["GET", "POST"])
def point_rules():
    """List, or create/replace, the points earning rules."""
    rules = _system().points.rules
    if request.method == "POST":
        return jsonify({"ok": True, "rule": rules.save(_body())})
    return jsonify({"items": rules.all()})


@bp.delete("/point-rules/<rule_id>")
def delete_point_rule(rule_id):
    """Remove a rule: purchases and recharges from now on no longer earn by it."""
    rule = _system().points.rules.delete(rule_id)
    if rule is None:
        return json_error(404, "unknown_rule", "没有这条积分规则")
    return jsonify({"ok": True, "rule": rule})


@bp.route("/recharge-promotions", methods=["GET", "POST"])
def recharge_promotions():
    """List, or create/replace, recharge promotions ``{id, threshold, bonus, name}`` (yuan)."""
    money = _system().money
    if request.method == "POST":
        body = _body()
        promotion_id = str(body.get("id") or "").strip()
        name = str(body.get("name") or "").strip()
        if not promotion_id or not name:
            raise InvalidTransaction("invalid_body", "id and name are required")
        threshold, bonus = (
            to_fen(body.get("threshold"), "threshold"),
            to_fen(body.get("bonus"), "bonus"),
        )
        if threshold <= 0 or bonus <= 0:
            raise InvalidTransaction("invalid_amount", "threshold and bonus must be above 0")
        return jsonify(
            {"ok": True, "promotion": money.save_promotion(promotion_id, threshold, bonus, name)}
        )
    return jsonify({"items": money.all_promotions()})


@bp.post("/recharge-promotions/<promotion_id>/active")
def set_recharge_promotion_active(promotion_id):
    """``{active}``: switch a promotion on or off (recharges made keep their bonus)."""
    active = _body().get("active")
    if not isinstance(active, bool):
        raise InvalidTransaction("invalid_body", "active must be true or false")
    promotion = _system().money.set_promotion_active(promotion_id, active)
    if promotion is None:
        return json_error(404, "unknown_promotion", "没有这个充值优惠")
    return jsonify({"ok": True, "promotion": promotion})


@bp.route("/grades", methods=["GET", "POST"])
def grades():
    """List, or create/replace (by level), member grades with their rules."""
    system = _system()
    if request.method == "POST":
        return jsonify({"ok": True, "grade": system.grades.save(_body())})
    return jsonify({"items": system.grades.all()})

"""Store transactions (purchase, recharge, refund), each applied once per ``formId``.

A transaction is first recorded (``member/transactions``, ``_id`` = formId) with
what it will do, then each effect is a keyed ledger write. A repeat of the form
id returns the recorded transaction; one left half-applied by a crash is
completed by the repeat (every step is idempotent), never applied twice.

A purchase earns points by the consumption rules, may spend points and pay
from the balance. A refund reverses, in proportion to the amount refunded, the
points the purchase earned and spent and the balance it used.
"""

from __future__ import annotations

import contextlib
import math
from typing import TYPE_CHECKING

from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from wxmember.clock import SYSTEM_CLOCK, Clock
from wxmember.db.collections import TRANSACTIONS
from wxmember.members.ledger import Entry, InsufficientBalance
from wxmember.refusals import Refused

if TYPE_CHECKING:  # they import this module
    from wxmember.members.grades import Grades
    from wxmember.members.money import Money
    from wxmember.members.points import Points

TYPES = ("purchase", "recharge", "refund")
MAX_YUAN = 10_000_000  # one transaction: ten million yuan at most
MAX_ID = 2**53  # member ids and points: whole numbers every JSON reader keeps exact
MAX_FEN = MAX_YUAN * 100


class InvalidTransaction(Refused):
    """The transaction (or another staff request of the member system) cannot be applied."""

    default_status = 400


def yuan(fen: int | float) -> float:
    """Fen as yuan with two decimals: what the JSON answers and the member's pages show."""
    return round(fen / 100, 2)


def plain_yuan(fen: int) -> str:
    """Fen as yuan without trailing zeros: 100 → "1", 150 → "1.5", 1005 → "10.05"."""
    return f"{fen / 100:.2f}".rstrip("0").rstrip(".")


def to_fen(value: object, field: str) -> int:
    """Yuan (a number with at most two decimals, at most ``MAX_YUAN``) to whole fen."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidTransaction("invalid_amount", f"{field} must be a number of yuan")
    if not math.isfinite(value) or abs(value) > MAX_YUAN:
        raise InvalidTransaction("invalid_amount", f"{field} must be at most {MAX_YUAN} yuan")
    fen = round(value * 100)
    if abs(fen - value * 100) > 1e-6 or fen < 0:
        raise InvalidTransaction("invalid_amount", f"{field} must be ≥ 0 with at most 2 decimals")
    return fen


def parse(body: object) -> dict:
    """A checked transaction from the API's JSON (amounts still in yuan there)."""
    if not isinstance(body, dict):
        raise InvalidTransaction("invalid_body", "the body must be a JSON object")
    form = form_id(body.get("formId"))
    member_id = body.get("memberID")
    if isinstance(member_id, bool) or not isinstance(member_id, int) or not 0 < member_id < MAX_ID:
        raise InvalidTransaction("invalid_member", "memberID must be a positive whole number")
    if body.get("type") not in TYPES:
        raise InvalidTransaction("invalid_type", "type must be purchase, recharge or refund")
    tx = {
        "_id": form,
        "formId": form,
        "memberID": member_id,
        "type": body["type"],
        "amount": to_fen(body.get("amount"), "amount"),
        "items": _items(body.get("items")),
        "pointsSpent": _whole(body.get("pointsSpent", 0), "pointsSpent"),
        "balancePaid": to_fen(body.get("balancePaid", 0), "balancePaid"),
        "refundOf": None,
    }
    if tx["type"] == "refund":
        tx["refundOf"] = form_id(body.get("refundOf"), "refundOf", "invalid_refund")
    if tx["balancePaid"] > tx["amount"]:
        raise InvalidTransaction("invalid_amount", "balancePaid cannot exceed amount")
    return tx


def form_id(value: object, field: str = "formId", code: str = "invalid_form_id") -> str:
    """A form id: a string of 1–100 characters (never an object: it goes into filters)."""
    if not isinstance(value, str) or not 0 < len(value.strip()) <= 100:
        raise InvalidTransaction(code, f"{field} must be a form id of 1 to 100 characters")
    return value.strip()


def _items(items):
    if items is None:
        return None
    if not isinstance(items, list) or not all(
        isinstance(i, dict) and isinstance(i.get("productId"), str) for i in items
    ):
        raise InvalidTransaction("invalid_items", "items must be [{productId, amount}]")
    return [
        {"productId": i["productId"], "amount": to_fen(i.get("amount"), "items.amount")}
        for i in items
    ]


def _whole(value, field):
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < MAX_ID:
        raise InvalidTransaction("invalid_points", f"{field} must be a whole number ≥ 0")
    return value


class TransactionHistory:
    """The applied transactions of members over a time window, for the grade rules."""

    def __init__(self, database: Database) -> None:
        self.collection = database[TRANSACTIONS]

    def ensure_indexes(self) -> None:
        """A member's transactions newest first."""
        self.collection.create_index([("memberID", 1), ("createTime", -1)])

    def orders(self, members: list[int], since: int, until: int) -> int:
        """How many purchases ``members`` made from ``since`` to ``until`` (ms, inclusive)."""
        return self.collection.count_documents(
            {**_applied(members, since, until), "type": "purchase"}
        )

    def spend(self, members: list[int], since: int, until: int) -> int:
        """What ``members`` spent from ``since`` to ``until`` (fen): purchases less refunds."""
        total = 0
        for tx in self.collection.find(
            {**_applied(members, since, until), "type": {"$in": ["purchase", "refund"]}}
        ):
            total += tx["amount"] if tx["type"] == "purchase" else -tx["amount"]
        return total


def _applied(members, since, until):
    return {
        "memberID": {"$in": members},
        "status": "applied",
        "createTime": {"$gte": since, "$lte": until},
    }


class Transactions:
    """Applies transactions to the points and money ledgers, and upgrades grades at once."""

    def __init__(
        self,
        database: Database,
        points: Points,
        money: Money,
        grades: Grades | None = None,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.collection = database[TRANSACTIONS]
        self.points, self.money, self.grades = points, money, grades
        self.clock = clock
        self.refund_hooks: list = []  # called with each applied refund (a checkout's coupons)

    def get(self, form_id: str) -> dict | None:
        """The transaction recorded under ``form_id``, whatever its status, or None."""
        return self.collection.find_one({"_id": form_id})

    def recent(self, member_id: int, limit: int) -> list[dict]:
        """The newest ``limit`` transactions of a member, whatever their status."""
        cursor = self.collection.find({"memberID": member_id}).sort("createTime", -1)
        return list(cursor.limit(limit))

    def page(self, member_id: int, limit: int, after: tuple[int, str] | None = None) -> list[dict]:
        """The member's applied transactions newest first (``createTime``, then formId), from
        after ``(createTime, formId)`` of the previous page's last one."""
        query = {"memberID": member_id, "status": "applied"}
        if after is not None:
            time, form = after
            query["$or"] = [
                {"createTime": {"$lt": time}},
                {"createTime": time, "_id": {"$lt": form}},
            ]
        cursor = self.collection.find(query).sort([("createTime", -1), ("_id", -1)])
        return list(cursor.limit(limit))

    def apply(self, tx: dict) -> dict:
        """Apply ``tx`` (from ``parse``) once; return the recorded transaction."""
        applied = self._apply_once(tx)
        if applied["type"] == "refund":  # a repeat too: a hook that failed gets another go
            for hook in self.refund_hooks:
                hook(applied)
        return applied

    def _apply_once(self, tx):
        recorded = self.collection.find_one({"_id": tx["_id"]})
        if recorded and recorded["status"] == "refused":
            raise InvalidTransaction(recorded["refusal"], "this formId was refused before", 409)
        if recorded and recorded["status"] == "applied":
            return recorded
        if recorded is None:
            self._check_before_recording(tx)
            tx.update(status="applying", createTime=self.clock.now_ms())
            with contextlib.suppress(DuplicateKeyError):  # the same formId, concurrently
                self.collection.insert_one(tx)
            recorded = self.collection.find_one({"_id": tx["_id"]})
        grade = self.grades.level(recorded["memberID"]) if self.grades is not None else None
        effects = getattr(self, f"_{recorded['type']}")(recorded, grade)
        self.collection.update_one(
            {"_id": recorded["_id"]}, {"$set": {"status": "applied", "effects": effects}}
        )
        if self.grades is not None and recorded["type"] == "purchase":
            self.grades.evaluate(recorded["memberID"], reason="purchase")
        return self.collection.find_one({"_id": recorded["_id"]})

    def _check_before_recording(self, tx):
        """Refuse, recording nothing, what cannot be applied now."""
        if tx["type"] == "refund":
            tx["ratio"] = self._reserve_refund(tx)
        if tx["type"] != "purchase":
            return
        if tx["pointsSpent"] > self.points.balance(tx["memberID"]):
            raise InvalidTransaction("insufficient_points", "points balance is too low", 409)
        if tx["balancePaid"] > self.money.ledger.balance("money", tx["memberID"]):
            raise InvalidTransaction("insufficient_money", "money balance is too low", 409)

    def _purchase(self, tx, grade):
        form, member = tx["formId"], tx["memberID"]
        effects = {"pointsSpent": tx["pointsSpent"], "balancePaid": tx["balancePaid"]}
        try:
            if tx["pointsSpent"]:
                self.points.spend(
                    member,
                    tx["pointsSpent"],
                    Entry(form, "积分抵现", "消费抵扣"),
                    f"{form}:points-spent",
                )
            if tx["balancePaid"]:
                self.money.spend(member, tx["balancePaid"], form)
        except InsufficientBalance as short:  # lost a race since the check: undo, refuse
            self._refuse(tx, short)
        earned = self.points.rules.points_for("consumption", tx["amount"], grade, tx["items"])
        self.points.earn(
            member, earned, Entry(form, "购物消费", "消费积分"), f"{form}:points-earned"
        )
        effects["pointsEarned"] = earned
        return effects

    def _recharge(self, tx, grade):
        form, member = tx["formId"], tx["memberID"]
        rows = self.money.recharge(member, tx["amount"], form)
        earned = self.points.rules.points_for("recharge", tx["amount"], grade)
        self.points.earn(member, earned, Entry(form, "充值", "充值积分"), f"{form}:points-earned")
        return {
            "recharged": tx["amount"],
            "bonus": sum(r["Money"] for r in rows[1:]),
            "pointsEarned": earned,
        }

    def _refund(self, tx, grade):
        form, member, ratio = tx["formId"], tx["memberID"], tx["ratio"]
        original = self.collection.find_one({"_id": tx["refundOf"]})["effects"]
        earned_back = round(original["pointsEarned"] * ratio)
        spent_back = round(original["pointsSpent"] * ratio)
        paid_back = round(original["balancePaid"] * ratio)
        taken = min(earned_back, self.points.balance(member) + spent_back)
        if spent_back:
            self.points.earn(
                member, spent_back, Entry(form, "退款", "退还抵扣积分"), f"{form}:points-returned"
            )
        if taken:
            self.points.spend(
                member, taken, Entry(form, "退款", "扣回消费积分"), f"{form}:points-reversed"
            )
        if paid_back:
            self.money.refund(member, paid_back, form)
        return {
            "ratio": ratio,
            "pointsReturned": spent_back,
            "pointsReversed": taken,
            "pointsShort": earned_back - taken,
            "balanceReturned": paid_back,
        }

    def _reserve_refund(self, tx):
        """Reserve ``amount`` of the purchase for this refund; return the refund's ratio.

        One atomic update of the purchase (its ``refunded`` total and the form ids that
        took part of it), so concurrent refunds can never add up to more than the
        purchase. A repeat of the same refund finds its reservation and goes on.
        """
        original = self.collection.find_one({"_id": tx["refundOf"], "type": "purchase"})
        if original is None or original.get("status") != "applied":
            raise InvalidTransaction("unknown_purchase", "refundOf is not an applied purchase", 404)
        if original["memberID"] != tx["memberID"]:
            raise InvalidTransaction("invalid_refund", "the purchase belongs to another member")
        reserved = self.collection.update_one(
            {
                "_id": original["_id"],
                "refundForms": {"$ne": tx["formId"]},
                "refunded": {"$not": {"$gt": original["amount"] - tx["amount"]}},
            },
            {"$inc": {"refunded": tx["amount"]}, "$push": {"refundForms": tx["formId"]}},
        )
        if not reserved.modified_count and not self._reserved_before(original["_id"], tx):
            raise InvalidTransaction("refund_too_large", "refunds would exceed the purchase")
        return tx["amount"] / original["amount"] if original["amount"] else 0

    def _reserved_before(self, purchase_id, tx):
        return (
            self.collection.count_documents({"_id": purchase_id, "refundForms": tx["formId"]}) > 0
        )

    def _refuse(self, tx, short):
        form = tx["formId"]
        if tx["pointsSpent"] and short.kind == "money":
            self.points.earn(
                tx["memberID"],
                tx["pointsSpent"],
                Entry(form, "撤销", "退还抵扣积分"),
                f"{form}:points-spent-undone",
            )
        code = f"insufficient_{short.kind}"
        self.collection.update_one({"_id": form}, {"$set": {"status": "refused", "refusal": code}})
        raise InvalidTransaction(code, f"{short.kind} balance is too low", 409)

"""A checkout committed once per ``formId``: its coupons used, its points spent and the
purchase recorded through ``Transactions`` (seed 003's 交易流水); a refund gives back
what it used.

1. The quote is made again (every refusal of a quote applies), then one transaction
   writes the checkout (``member/checkouts``, ``_id`` = formId, ``pending``) and marks
   its coupons used — only if each is still valid, so of two checkouts racing for one
   coupon, one commits and the other is refused (``coupon_used``) with nothing written.
2. The purchase is applied through ``Transactions.apply`` under the same formId, with
   ``amount`` = what is due before the points (the total plus the points' value) and
   ``pointsSpent`` = the points: it spends them (the ledger never goes below zero),
   earns points by the rules and upgrades the grade, once per formId.
3. The checkout becomes ``done``. If the purchase is refused (the points were spent
   elsewhere meanwhile), the coupons come back in one transaction with the checkout
   marked ``refused``.

A repeat of the formId, or the ``coupon_expiry`` job for a checkout a crash left
``pending``, completes steps 2–3 from the record (each is idempotent) and answers as
the first commit did. A refund of the purchase (``POST /api/transactions``, or pulled
from the CRM) returns the points in proportion, as for any purchase; once the
purchase is refunded in full, its coupons are valid again (or expired, if their time
has passed).
"""

import logging

from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from wxmember import db
from wxmember.clock import SYSTEM_CLOCK, Clock
from wxmember.db.collections import CHECKOUTS
from wxmember.members.checkout import CheckoutRefused, CheckoutSettings, Quote, Quoting, parse_order
from wxmember.members.coupons import CouponRefused
from wxmember.members.transactions import InvalidTransaction, Transactions, yuan
from wxmember.members.wallet import CouponWallet

log = logging.getLogger(__name__)

PENDING_GRACE_MS = 5 * 60_000  # a checkout pending this long was left by a crash
REFUSALS = {"insufficient_points": "积分不足", "insufficient_money": "余额不足"}


class Checkout:
    """Quotes orders, commits them once per formId, gives back what a refund returns."""

    def __init__(
        self,
        database: Database,
        quoting: Quoting,
        wallet: CouponWallet,
        transactions: Transactions,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.database = database
        self.collection = database[CHECKOUTS]
        self.quoting, self.wallet, self.transactions = quoting, wallet, transactions
        self.clock = clock

    def ensure_indexes(self) -> None:
        """A member's checkouts newest first; what is left pending."""
        self.collection.create_index([("memberID", 1), ("createTime", -1)])
        self.collection.create_index([("status", 1), ("createTime", 1)])

    @property
    def settings(self) -> CheckoutSettings:
        """积分抵扣比例 and the 优惠规则 order."""
        return self.quoting.settings

    def quote(self, body: object) -> Quote:
        """What the order of ``body`` costs, step by step; nothing is written."""
        return self.quoting.quote(body)

    def get(self, form_id: str) -> dict | None:
        """The checkout committed under ``form_id``, or None."""
        return self.collection.find_one({"_id": form_id})

    def recent(self, member_id: int, limit: int = 20) -> list[dict]:
        """The member's newest checkouts, whatever their status (``answer`` shows one)."""
        cursor = self.collection.find({"memberID": member_id}).sort("createTime", -1)
        return list(cursor.limit(limit))

    # -- commit --------------------------------------------------------------------

    def commit(self, body: dict, form_id: str) -> dict:
        """Commit the order of ``body`` once under ``form_id``; the checkout's record."""
        order = parse_order(body)
        recorded = self.get(form_id)
        if recorded is None:
            if self.transactions.get(form_id) is not None:
                raise CheckoutRefused("form_id_taken", "该单号已用于另一笔交易")
            try:
                recorded = self._record(form_id, self.quoting.quote_order(order))
            except CouponRefused:  # e.g. coupon_used: by a concurrent repeat of this formId?
                recorded = self.get(form_id)
                if recorded is None:
                    raise
        if recorded["memberID"] != order.member_id:
            raise CheckoutRefused("form_id_taken", "该单号已用于另一位会员的结账")
        return self._complete(recorded)

    def _record(self, form_id, quote):
        """Step 1: the checkout, pending, and its coupons used — together or not at all."""
        now = self.clock.now_ms()
        order = quote.order
        record = {
            "_id": form_id,
            "formId": form_id,
            "memberID": order.member_id,
            "subtotal": order.amount,
            "items": order.items,
            "total": quote.total,
            "pointsUsed": quote.points_used,
            "pointsValue": quote.points_value,
            "coupons": quote.coupons,
            "quote": quote.answer(),
            "status": "pending",
            "createTime": now,
        }

        def work(session):
            self.collection.insert_one(record, session=session)
            if quote.coupons:
                self.wallet.use(quote.coupons, order.member_id, form_id, now, session)
            return record

        try:
            return db.all_or_nothing(self.database, work)
        except DuplicateKeyError:  # the same formId, committed concurrently
            found = self.get(form_id)
            if found is None:
                raise
            return found

    def _complete(self, record):
        """Steps 2–3 (safe to repeat): the purchase recorded, the checkout done."""
        if record["status"] == "done":
            return record
        if record["status"] == "refused":
            refusal = record["refusal"]
            raise CheckoutRefused(refusal["code"], refusal["message"])
        try:
            applied = self.transactions.apply(self._purchase(record))
        except InvalidTransaction as refused:
            self._undo(record, refused)
            raise CheckoutRefused(
                refused.code, REFUSALS.get(refused.code, "交易未能记录，优惠券已退回")
            ) from None
        effects = applied.get("effects") or {}
        self.collection.update_one(
            {"_id": record["_id"], "status": "pending"},
            {
                "$set": {
                    "status": "done",
                    "purchase": {
                        "formId": applied["formId"],
                        "amount": applied["amount"],
                        "pointsSpent": effects.get("pointsSpent", 0),
                        "pointsEarned": effects.get("pointsEarned", 0),
                    },
                    "doneTime": self.clock.now_ms(),
                }
            },
        )
        return self.get(record["_id"])

    def _purchase(self, record):
        """The purchase as ``Transactions`` applies it (fen): due before points, the points."""
        amount = record["total"] + record["pointsValue"]
        items = record["items"]
        if items is not None and record["subtotal"]:  # each item's share of what is due
            items = [
                {"productId": i["productId"], "amount": i["amount"] * amount // record["subtotal"]}
                for i in items
            ]
        return {
            "_id": record["_id"],
            "formId": record["_id"],
            "memberID": record["memberID"],
            "type": "purchase",
            "amount": amount,
            "items": items,
            "pointsSpent": record["pointsUsed"],
            "balancePaid": 0,
            "refundOf": None,
            "checkout": {
                "subtotal": record["subtotal"],
                "discount": record["subtotal"] - record["total"] - record["pointsValue"],
                "coupons": record["coupons"],
            },
        }

    def _undo(self, record, refused):
        """The purchase was refused: the coupons back and the checkout refused, together."""
        message = REFUSALS.get(refused.code, "交易未能记录，优惠券已退回")
        refusal = {"code": refused.code, "message": message}

        def work(session):
            self.wallet.give_back(record["_id"], f"{record['_id']}:refused", session)
            self.collection.update_one(
                {"_id": record["_id"], "status": "pending"},
                {"$set": {"status": "refused", "refusal": refusal}},
                session=session,
            )

        db.all_or_nothing(self.database, work)

    # -- refunds and the sweep -------------------------------------------------------------

    def refund(self, form_id: str, refund_form_id: str) -> dict:
        """Refund what is left of checkout ``form_id`` (all of it, when nothing was refunded
        before) as the refund ``refund_form_id``: the points it spent come back, those it
        earned go, and its coupons are valid again. Once per refund form id.

        The till knows the checkout, not the purchase amount it was recorded at (what was
        due before the points): this is the way to give a whole checkout back.
        """
        checkout = self.get(form_id)
        if checkout is None:
            raise CheckoutRefused("unknown_checkout", "没有这笔结算", 404)
        done = self.transactions.get(refund_form_id)
        if done is not None and done.get("refundOf") == form_id:
            return self.transactions.apply(done)  # a repeat: the same refund (hooks again)
        if done is not None:
            raise CheckoutRefused("form_id_taken", "该单号已用于另一笔交易")
        if checkout["status"] != "done":
            raise CheckoutRefused("checkout_not_done", "这笔结算没有完成，不能退款")
        purchase = self.transactions.get(form_id)
        left = purchase["amount"] - purchase.get("refunded", 0)
        if left <= 0:
            raise CheckoutRefused("already_refunded", "这笔结算已全额退款")
        refund = {
            "_id": refund_form_id,
            "formId": refund_form_id,
            "memberID": checkout["memberID"],
            "type": "refund",
            "amount": left,
            "items": None,
            "pointsSpent": 0,
            "balancePaid": 0,
            "refundOf": form_id,
        }
        return self.transactions.apply(refund)

    def refunded(self, refund: dict) -> None:
        """``Transactions`` hook: a purchase refunded in full gets its coupons back."""
        purchase = self.transactions.get(refund["refundOf"])
        if purchase is None or purchase.get("refunded", 0) < purchase["amount"]:
            return  # a part refunded: the points came back in proportion, the coupons stay
        checkout = self.get(purchase["_id"])
        if checkout is None or not checkout["coupons"]:
            return
        returned = self.wallet.give_back(purchase["_id"], refund["formId"])
        if returned:
            self.collection.update_one(
                {"_id": checkout["_id"]},
                {"$set": {"couponsReturned": returned, "refundedBy": refund["formId"]}},
            )

    def finish_pending(self, now: int | None = None) -> dict[str, int]:
        """Complete the checkouts a crash left pending (older than a few minutes)."""
        now = self.clock.now_ms() if now is None else now
        counts = {"finished": 0, "refused": 0}
        query = {"status": "pending", "createTime": {"$lt": now - PENDING_GRACE_MS}}
        for record in list(self.collection.find(query).sort("createTime", 1).limit(1000)):
            try:
                self._complete(record)
                counts["finished"] += 1
            except CheckoutRefused:
                counts["refused"] += 1
        return counts


def answer(record: dict) -> dict:
    """A committed checkout as the API answers it (yuan)."""
    purchase = record.get("purchase") or {}
    return {
        **record["quote"],
        "formId": record["_id"],
        "status": record["status"],
        "purchase": {
            "formId": purchase.get("formId", record["_id"]),
            "amount": yuan(purchase.get("amount", 0)),
            "pointsSpent": purchase.get("pointsSpent", 0),
            "pointsEarned": purchase.get("pointsEarned", 0),
        },
    }

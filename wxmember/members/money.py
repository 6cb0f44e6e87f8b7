"""Money (``Member_Money``), frozen money (``Member_FrozenMoney``), earnings
(``Member_Refund``) and withdrawals (``Member_RefundCash``). Amounts in fen.

Recharge promotions (seed 003, "充100送30"): the best promotion whose threshold
the recharge reaches adds its bonus as a row of its own. A withdrawal moves money
only when staff approve it, and only once: the approval is an atomic change of
its status from pending, and the debit is keyed by the withdrawal.
"""

from __future__ import annotations

from bson import ObjectId
from pymongo import ReturnDocument
from pymongo.client_session import ClientSession
from pymongo.database import Database

from wxmember import db
from wxmember.clock import SYSTEM_CLOCK, Clock
from wxmember.db.collections import RECHARGE_PROMOTIONS, WITHDRAWALS
from wxmember.members.ledger import Entry, InsufficientBalance, Ledger
from wxmember.refusals import Refused

PENDING, APPROVED, REJECTED = 0, 1, 2


class WithdrawalRefused(Refused):
    """A withdrawal cannot be applied for or decided."""


class Money:
    """Recharge, spend, refund, freeze and release over the ledgers."""

    def __init__(self, ledger: Ledger, database: Database) -> None:
        self.ledger = ledger
        self.promotions = database[RECHARGE_PROMOTIONS]

    def save_promotion(
        self, promotion_id: str, threshold_fen: int, bonus_fen: int, name: str
    ) -> dict:
        """Create or replace a recharge promotion."""
        doc = {
            "_id": promotion_id,
            "threshold": threshold_fen,
            "bonus": bonus_fen,
            "name": name,
            "active": True,
        }
        self.promotions.replace_one({"_id": promotion_id}, doc, upsert=True)
        return doc

    def set_promotion_active(self, promotion_id: str, active: bool) -> dict | None:
        """Switch a promotion on or off (recharges already made keep their bonus); the
        promotion, or None."""
        return self.promotions.find_one_and_update(
            {"_id": promotion_id},
            {"$set": {"active": active}},
            return_document=ReturnDocument.AFTER,
        )

    def all_promotions(self) -> list[dict]:
        """Every recharge promotion, active or not."""
        return list(self.promotions.find())

    def best_promotion(self, amount_fen: int) -> dict | None:
        """The active promotion with the highest threshold ``amount_fen`` reaches."""
        reached = [
            p for p in self.promotions.find({"active": True}) if p["threshold"] <= amount_fen
        ]
        return max(reached, key=lambda p: p["threshold"], default=None)

    def recharge(
        self, member_id: int, amount_fen: int, form_id: str, source: str = "门店"
    ) -> list[dict]:
        """Credit a recharge and its promotion bonus (a row of its own); return the rows."""
        rows = [
            self.ledger.post(
                "money",
                member_id,
                amount_fen,
                Entry(form_id, "充值", f"{source}充值", source=source),
                f"{form_id}:recharge",
            )
        ]
        promotion = self.best_promotion(amount_fen)
        if promotion:
            bonus = Entry(
                form_id,
                "充值赠送",
                promotion["name"],
                source=source,
                explain=f"充{promotion['threshold'] // 100}送{promotion['bonus'] // 100}",
            )
            rows.append(
                self.ledger.post("money", member_id, promotion["bonus"], bonus, f"{form_id}:bonus")
            )
        return rows

    def spend(
        self, member_id: int, amount_fen: int, form_id: str, subject: str = "购物消费"
    ) -> dict:
        """Pay from the balance; InsufficientBalance when it is short."""
        entry = Entry(form_id, "购物消费", subject)
        return self.ledger.post("money", member_id, -amount_fen, entry, f"{form_id}:pay")

    def refund(
        self, member_id: int, amount_fen: int, form_id: str, key_suffix: str = "refund"
    ) -> dict:
        """Give money back to the balance."""
        entry = Entry(form_id, "退款", "退款返还")
        return self.ledger.post("money", member_id, amount_fen, entry, f"{form_id}:{key_suffix}")

    def freeze(self, member_id: int, amount_fen: int, form_id: str, operator: int = 0) -> dict:
        """Move money to frozen money (``operator``: the staff account, 0 = the system)."""
        entry = Entry(form_id, "冻结", "资金冻结", operator=operator)
        return self._move("money", "frozen", member_id, amount_fen, entry, "freeze")

    def release(self, member_id: int, amount_fen: int, form_id: str, operator: int = 0) -> dict:
        """Move frozen money back to money."""
        entry = Entry(form_id, "解冻", "资金解冻", operator=operator)
        return self._move("frozen", "money", member_id, amount_fen, entry, "release")

    def _move(self, source, target, member_id, amount_fen, entry, step):
        """Two keyed writes: a retry after a failure between them completes, never doubles."""
        key = f"{entry.form_id}:{step}"
        self.ledger.post(source, member_id, -amount_fen, entry, f"{key}-out")
        return self.ledger.post(target, member_id, amount_fen, entry, f"{key}-in")

    def earn(
        self, member_id: int, amount_fen: int, form_id: str, summary: str, operator: int = 0
    ) -> dict:
        """Credit earnings (commission, referral reward…)."""
        entry = Entry(form_id, "收益", summary, explain=summary, operator=operator)
        return self.ledger.post("earnings", member_id, amount_fen, entry, f"{form_id}:earning")


class Withdrawals:
    """Members apply to withdraw earnings; staff approve (paid out) or reject (returned).

    The amount leaves the earnings at application ("提现冻结"), so applications can
    never add up to more than the member has; a rejection returns it ("提现退回").
    Each step writes its ledger row and the application together (one transaction).
    """

    def __init__(self, ledger: Ledger, database: Database, clock: Clock = SYSTEM_CLOCK) -> None:
        self.ledger = ledger
        self.collection = database[WITHDRAWALS]
        self.clock = clock

    def apply(
        self, member_id: int, amount_fen: int, method: str = "微信零钱", bank_info: str = ""
    ) -> dict:
        """Record an application and reserve its amount; refused when earnings fall short."""
        if amount_fen <= 0:
            raise WithdrawalRefused("invalid_amount", "提现金额必须大于0", 400)
        doc = {
            "_id": ObjectId(),
            "Date": self.clock.now_ms(),
            "MemberID": member_id,
            "Status": PENDING,
            "Type": method,
            "BankInfo": bank_info,
            "Money": amount_fen,
        }
        entry = Entry(f"WD-{doc['_id']}", "提现冻结", "收益提现申请")

        def reserve(session):
            key = f"withdraw:{doc['_id']}"
            self.ledger.post("earnings", member_id, -amount_fen, entry, key, session)
            self.collection.insert_one(doc, session=session)

        try:
            db.all_or_nothing(self.collection.database, reserve)
        except InsufficientBalance:
            raise WithdrawalRefused("insufficient_earnings", "可提现收益不足") from None
        return doc

    def approve(self, withdrawal_id: ObjectId, operator: int, memo: str = "") -> dict:
        """Approve once (the reserved amount is paid out); a second approval changes nothing."""
        return self._decide(withdrawal_id, APPROVED, operator, memo)

    def reject(self, withdrawal_id: ObjectId, operator: int, memo: str = "") -> dict:
        """Reject once: the reserved amount goes back to the earnings."""

        def give_back(session):
            doc = self._decide(withdrawal_id, REJECTED, operator, memo, session)
            entry = Entry(
                f"WD-{doc['_id']}", "提现退回", "提现申请被拒", operator=operator, memo=memo
            )
            key = f"withdraw:{doc['_id']}:returned"
            self.ledger.post("earnings", doc["MemberID"], doc["Money"], entry, key, session)
            return doc

        return db.all_or_nothing(self.collection.database, give_back)

    def _decide(self, withdrawal_id, status, operator, memo, session: ClientSession | None = None):
        doc = self.collection.find_one_and_update(
            {"_id": withdrawal_id, "Status": PENDING},
            {
                "$set": {
                    "Status": status,
                    "VerifyID": operator,
                    "VerifyDate": self.clock.now_ms(),
                    "VerifyMemo": memo,
                }
            },
            return_document=ReturnDocument.AFTER,
            session=session,
        )
        if doc is None:
            raise WithdrawalRefused("not_pending", "该提现申请不存在或已处理")
        return doc

    def list(self, status: int | None = None, limit: int = 100, skip: int = 0) -> list[dict]:
        """Applications newest first (``skip`` the first ones: a later page)."""
        query = {} if status is None else {"Status": status}
        cursor = self.collection.find(query).sort([("Date", -1), ("_id", 1)])
        return list(cursor.skip(skip).limit(limit))

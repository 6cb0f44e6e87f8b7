"""The member ledgers of seed 002: points, money, frozen money and earnings.

Each ledger is an append-only collection of rows (``Member_Integral``,
``Member_Money``, ``Member_FrozenMoney``, ``Member_Refund``) whose ``Balance`` is
the previous balance plus the row's amount. A member's balances live in one
account document (``member/accounts``).

A write is one atomic conditional update of the account (the balance may not go
below zero; the idempotency key must not be in the account's recent journal) that
also appends the key and the row to that journal, then the insert of the row
under the same key. A crash between the two leaves the row in the journal, from
which ``repair`` (or the next attempt with the same key) writes it with the
balance it had; the journal also makes a concurrent replay of the key find the
first application instead of applying twice. Money is kept in fen (分).
"""

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from pymongo.client_session import ClientSession
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from wxmember.clock import SYSTEM_CLOCK, Clock
from wxmember.db.collections import (
    EARNINGS_ROWS,
    FROZEN_MONEY_ROWS,
    MEMBER_ACCOUNTS,
    MONEY_ROWS,
    POINTS_ROWS,
)
from wxmember.refusals import Refused

log = logging.getLogger(__name__)

JOURNAL_SIZE = 500  # replays of a key within a member's last 500 writes are recognised here


@dataclass(frozen=True)
class LedgerKind:
    """One ledger: its collection, and the seed's name of its amount column."""

    name: str
    collection: str
    amount_field: str


KINDS = {
    "points": LedgerKind("points", POINTS_ROWS, "Integral"),
    "money": LedgerKind("money", MONEY_ROWS, "Money"),
    "frozen": LedgerKind("frozen", FROZEN_MONEY_ROWS, "Money"),
    "earnings": LedgerKind("earnings", EARNINGS_ROWS, "Money"),
}


class InsufficientBalance(Refused):
    """The write would take the balance below zero; nothing was written."""

    def __init__(self, kind: str, balance: int, amount: int) -> None:
        super().__init__(f"insufficient_{kind}", f"{kind} balance is too low", 409)
        self.kind, self.balance, self.amount = kind, balance, amount


@dataclass
class Entry:
    """What a ledger row says besides amount and balance (the seed's columns)."""

    form_id: str
    type: str
    subject: str
    source: str = "wxmember"
    branch: int = 0
    explain: str = ""
    memo: str = ""
    operator: int = 0  # CreateUser: 0 = the system


class Ledger:
    """Writes and reads the four ledgers of every member."""

    def __init__(self, database: Database, clock: Clock = SYSTEM_CLOCK) -> None:
        self.database = database
        self.accounts = database[MEMBER_ACCOUNTS]
        self.clock = clock

    def ensure_indexes(self) -> None:
        """Rows of a member newest first, and by form id."""
        for kind in KINDS.values():
            rows = self.database[kind.collection]
            rows.create_index([("MemberID", 1), ("seq", -1)])
            rows.create_index("FormID")

    # -- writing -------------------------------------------------------------------

    def post(
        self,
        kind: str,
        member_id: int,
        amount: int,
        entry: Entry,
        key: str,
        session: ClientSession | None = None,
    ) -> dict:
        """Add ``amount`` (negative to take) to a ledger once per ``key``; return the row.

        With ``session`` the write is part of the caller's transaction.
        """
        ledger = KINDS[kind]
        existing = self.row(kind, key, session)
        if existing is not None:
            return existing
        row = self._row(ledger, member_id, amount, entry)
        account = self._apply(ledger, member_id, amount, key, row, session)
        if account is None:
            return self._replayed_or_refused(ledger, member_id, amount, key, session)
        return self._write_row(ledger, account, key, session)

    def _row(self, ledger, member_id, amount, entry):
        return {
            "MemberID": member_id,
            "FormID": entry.form_id,
            "Branch": entry.branch,
            "Source": entry.source,
            "Type": entry.type,
            "Subject": entry.subject,
            ledger.amount_field: int(amount),
            "Explain": entry.explain,
            "Memo": entry.memo,
            "CreateUser": entry.operator,
            "CreateDate": self.clock.now_ms(),
        }

    def _apply(self, ledger, member_id, amount, key, row, session=None):
        """The atomic conditional update; None when its condition does not hold."""
        prefix = ledger.name
        condition = {"_id": member_id, f"{prefix}.journal.key": {"$ne": key}}
        if amount < 0:
            condition[f"{prefix}.balance"] = {"$gte": -amount}
        update = {
            "$inc": {f"{prefix}.balance": int(amount), f"{prefix}.seq": 1},
            "$push": {
                f"{prefix}.journal": {"$each": [{"key": key, "row": row}], "$slice": -JOURNAL_SIZE}
            },
        }
        try:
            applied = self.accounts.update_one(
                condition, update, upsert=amount >= 0, session=session
            )
        except DuplicateKeyError:  # the upsert met an account whose condition failed
            if session is not None:
                raise  # the server aborted the transaction: its caller decides
            return None
        if not applied.matched_count and applied.upserted_id is None:
            return None
        # Read after the update rather than find_one_and_update: the embedded engine scans
        # the whole collection for that (86 ms a post at 10,000 accounts). Writes that land
        # in between are later journal entries, which _write_row takes off the balance.
        return self.accounts.find_one({"_id": member_id}, session=session)

    def _replayed_or_refused(self, ledger, member_id, amount, key, session=None):
        account = self.accounts.find_one({"_id": member_id}, session=session) or {}
        journal = (account.get(ledger.name) or {}).get("journal", [])
        if any(item["key"] == key for item in journal):
            return self._write_row(ledger, account, key, session)  # a concurrent attempt did
        balance = (account.get(ledger.name) or {}).get("balance", 0)
        raise InsufficientBalance(ledger.name, balance, amount)

    def _write_row(self, ledger, account, key, session=None):
        """Insert the row of journal entry ``key`` with the balance it left."""
        state = account[ledger.name]
        journal = state["journal"]
        index = next(i for i, item in enumerate(journal) if item["key"] == key)
        later = journal[index + 1 :]
        row = dict(journal[index]["row"])
        row["_id"] = key
        row["Balance"] = state["balance"] - sum(item["row"][ledger.amount_field] for item in later)
        row["seq"] = state["seq"] - len(later)
        try:
            self.database[ledger.collection].insert_one(row, session=session)
        except DuplicateKeyError:
            if session is not None:
                raise
            return self.row(ledger.name, key)
        return row

    # -- reading -------------------------------------------------------------------

    def balance(self, kind: str, member_id: int) -> int:
        """The member's balance in one ledger (0 for a member without rows)."""
        account = self.accounts.find_one({"_id": member_id}, {f"{kind}.balance": 1}) or {}
        return (account.get(kind) or {}).get("balance", 0)

    def balances(self, member_id: int) -> dict[str, int]:
        """``{kind: balance}`` of every ledger."""
        account = self.accounts.find_one({"_id": member_id}) or {}
        return {kind: (account.get(kind) or {}).get("balance", 0) for kind in KINDS}

    def row(self, kind: str, key: str, session: ClientSession | None = None) -> dict | None:
        """The row written under idempotency ``key``, or None."""
        return self.database[KINDS[kind].collection].find_one({"_id": key}, session=session)

    def history(self, kind: str, member_id: int) -> Iterator[dict]:
        """Every row of the member in one ledger, oldest first."""
        return self.database[KINDS[kind].collection].find({"MemberID": member_id}).sort("seq", 1)

    def rows(
        self, kind: str, member_id: int, limit: int = 50, before_seq: int | None = None
    ) -> list[dict]:
        """Rows newest first; page with ``before_seq`` (the last row's ``seq``)."""
        query = {"MemberID": member_id}
        if before_seq is not None:
            query["seq"] = {"$lt": before_seq}
        cursor = self.database[KINDS[kind].collection].find(query).sort("seq", -1)
        return list(cursor.limit(limit))

    def has_account(self, member_id: int) -> bool:
        """True when the member has ever had a ledger write."""
        return self.accounts.find_one({"_id": member_id}, {"_id": 1}) is not None

    def members_with_balance(self, kind: str) -> Iterator[int]:
        """The ids of the members whose balance in ledger ``kind`` is above zero."""
        for account in self.accounts.find({f"{kind}.balance": {"$gt": 0}}, {"_id": 1}):
            yield account["_id"]

    # -- repair and audit ----------------------------------------------------------

    def repair(self, member_id: int | None = None) -> int:
        """Write the rows a crash left in the journals; return how many."""
        written = 0
        query = {} if member_id is None else {"_id": member_id}
        for account in self.accounts.find(query):
            for ledger in KINDS.values():
                journal = (account.get(ledger.name) or {}).get("journal", [])
                keys = [item["key"] for item in journal]
                present = {
                    row["_id"]
                    for row in self.database[ledger.collection].find(
                        {"_id": {"$in": keys}}, {"_id": 1}
                    )
                }
                for key in keys:
                    if key not in present:
                        self._write_row(ledger, account, key)
                        log.warning("ledger %s: wrote row %s left by a crash", ledger.name, key)
                        written += 1
        return written

    def audit(self, progress: Callable[[int], object] | None = None) -> list[dict]:
        """Recompute every balance from the rows; return the differences found."""
        differences = []
        accounts = self.accounts.find({}, {f"{k}.balance": 1 for k in KINDS})
        for checked, account in enumerate(accounts, start=1):
            for ledger in KINDS.values():
                stored = (account.get(ledger.name) or {}).get("balance", 0)
                difference = self._audit_rows(ledger, account["_id"], stored)
                if difference:
                    differences.append(difference)
            if progress:
                progress(checked)
        return differences

    def _audit_rows(self, ledger, member_id, stored):
        total, previous, broken_at = 0, 0, None
        for row in self.history(ledger.name, member_id):
            total += row[ledger.amount_field]
            if broken_at is None and row["Balance"] != previous + row[ledger.amount_field]:
                broken_at = row["_id"]
            previous = row["Balance"]
        if total == stored and broken_at is None and total >= 0:
            return None
        return {
            "memberID": member_id,
            "kind": ledger.name,
            "account": stored,
            "rows": total,
            "brokenAt": broken_at,
        }

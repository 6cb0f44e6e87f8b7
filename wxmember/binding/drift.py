"""``wxmember/drift``: where the platform's bindings and the CRM disagree, for staff.

Seed 000's worst problem ("unbind failed", "找不到对应的人员") was such drift left
unnoticed. Each kind of disagreement is recorded once per binding, with when it
was first and last seen, and marked repaired or resolved when it is gone.
"""

import pymongo
from pymongo import ReturnDocument
from pymongo.database import Database

from wxmember.clock import SYSTEM_CLOCK, Clock
from wxmember.db.collections import DRIFT

KINDS = {
    "member_missing": "CRM 中找不到该会员（找不到对应的人员）",
    "unbound_on_crm": "平台已绑定，CRM 中未绑定",
    "bound_elsewhere": "CRM 中该会员绑定了另一个微信",
    "crm_only": "CRM 中已绑定，平台未绑定",
    "card_changed": "CRM 中卡号或卡类型已变",
    "mobile_conflict": "CRM 手机号已被另一个已绑定用户使用",
}


class DriftLog:
    """Records, repairs and lists binding drift."""

    def __init__(self, database: Database, clock: Clock = SYSTEM_CLOCK) -> None:
        self.collection = database[DRIFT]
        self.clock = clock

    def ensure_indexes(self) -> None:
        """Open items newest first."""
        self.collection.create_index([("state", 1), ("lastSeen", -1)])

    def record(
        self,
        kind: str,
        openid: str | None,
        member_id: int,
        detail: dict | None = None,
        state: str = "open",
    ) -> None:
        """Note drift of ``kind``; ``state`` is ``open`` or ``repaired`` (fixed automatically)."""
        now = self.clock.now_ms()
        self.collection.update_one(
            {"_id": f"{kind}|{openid}|{member_id}"},
            {
                "$set": {
                    "state": state,
                    "lastSeen": now,
                    "detail": detail or {},
                    "description": KINDS[kind],
                },
                "$setOnInsert": {
                    "kind": kind,
                    "openid": openid,
                    "memberID": member_id,
                    "firstSeen": now,
                },
                "$inc": {"seen": 1},
            },
            upsert=True,
        )

    def resolve(self, openid: str, member_id: int) -> None:
        """Close every open item of a binding that now agrees."""
        self.collection.update_many(
            {"openid": openid, "memberID": member_id, "state": "open"},
            {"$set": {"state": "resolved", "resolvedAt": self.clock.now_ms()}},
        )

    def close(self, drift_id: str, by: str, note: str) -> dict | None:
        """Staff mark an open item handled (``resolved``, by whom, why); the item as it is
        now, or None when there is no open item of that id."""
        return self.collection.find_one_and_update(
            {"_id": drift_id, "state": "open"},
            {
                "$set": {
                    "state": "resolved",
                    "resolvedAt": self.clock.now_ms(),
                    "resolvedBy": by,
                    "note": note,
                }
            },
            return_document=ReturnDocument.AFTER,
        )

    def get(self, drift_id: str) -> dict | None:
        """One item, or None."""
        return self.collection.find_one({"_id": drift_id})

    def latest(self, state: str | None = None, limit: int = 100, skip: int = 0) -> list[dict]:
        """Items newest first, all or of one state (``skip`` the first ones: a later page)."""
        query = {"state": state} if state else {}
        cursor = self.collection.find(query).sort([("lastSeen", pymongo.DESCENDING), ("_id", 1)])
        return list(cursor.skip(skip).limit(limit))

"""The outbox: notifications the CRM must get, delivered later, once, in order per member.

A notification is written before it is sent. Delivery takes a short lock on it,
calls the CRM with the notification's id as the Idempotency-Key (so a delivery
repeated after a crash counts once), and marks it done. A member's later
notifications wait until the earlier ones are through.
"""

import logging
from datetime import timedelta

import pymongo
from bson import ObjectId
from pymongo.client_session import ClientSession
from pymongo.database import Database

from wxmember.clock import SYSTEM_CLOCK, Clock
from wxmember.crm import CRMClient, CRMError, CRMRejected
from wxmember.db.collections import OUTBOX
from wxmember.logsafe import mask

log = logging.getLogger(__name__)

LOCK_S = 60
MAX_BACKOFF_S = 3600
BATCH = 1000


class Outbox:
    """Queues CRM notifications and delivers them."""

    def __init__(self, database: Database, crm: CRMClient, clock: Clock = SYSTEM_CLOCK) -> None:
        self.collection = database[OUTBOX]
        self.crm = crm
        self.clock = clock

    def ensure_indexes(self) -> None:
        """Pending items per member in order."""
        self.collection.create_index([("state", 1), ("memberID", 1), ("_id", 1)])

    def add(
        self,
        kind: str,
        member_id: int,
        openid: str,
        payload: dict | None = None,
        session: ClientSession | None = None,
    ) -> None:
        """Queue one notification (``unbind``, ``save_info``) for ``member_id``."""
        self.collection.insert_one(
            {
                "_id": ObjectId(),
                "kind": kind,
                "memberID": member_id,
                "openid": openid,
                "payload": payload or {},
                "state": "pending",
                "attempts": 0,
                "createTime": self.clock.now_ms(),
                "nextAttemptAt": self.clock.utcnow(),
                "lockedUntil": self.clock.utcnow(),
            },
            session=session,
        )

    def pending(self, member_id: int | None = None) -> list[dict]:
        """Pending notifications, oldest first."""
        query = {"state": "pending"}
        if member_id is not None:
            query["memberID"] = member_id
        return list(self.collection.find(query).sort("_id", pymongo.ASCENDING))

    def latest(self, member_id: int, kind: str) -> dict | None:
        """The member's newest notification of ``kind`` (its ``state``: pending, done,
        rejected with ``lastError``), or None."""
        found = self.collection.find({"memberID": member_id, "kind": kind})
        return next(iter(found.sort("_id", pymongo.DESCENDING).limit(1)), None)

    def deliver(self, member_id: int | None = None) -> dict[str, int]:
        """Deliver what is due; return ``{"delivered": n, "failed": n, "rejected": n}``."""
        counts = {"delivered": 0, "failed": 0, "rejected": 0, "waiting": 0}
        blocked = set()  # members with an earlier notification not through: keep their order
        for item in self.pending(member_id)[:BATCH]:
            if item["memberID"] in blocked:
                counts["waiting"] += 1
                continue
            outcome = self._deliver_one(item)
            counts[outcome] += 1
            if outcome in ("failed", "waiting"):
                blocked.add(item["memberID"])
        return counts

    def _deliver_one(self, item):
        now = self.clock.utcnow()
        if item["nextAttemptAt"] > now or not self._lock(item, now):
            return "waiting"  # not due yet, or another process is on it
        try:
            self._call_crm(item)
        except CRMRejected as exc:
            if exc.code == self._already_done_code(item):
                return self._finish(item, "done")
            log.warning("CRM refused %s of %s: %s", item["kind"], mask(item["openid"]), exc.code)
            return self._finish(item, "rejected", exc.message)
        except CRMError as exc:  # down, slow, garbage: try again later under the same key
            self._retry_later(item, str(exc))
            return "failed"
        return self._finish(item, "done")

    def _lock(self, item, now):
        return (
            self.collection.find_one_and_update(
                {"_id": item["_id"], "state": "pending", "lockedUntil": {"$lte": now}},
                {"$set": {"lockedUntil": now + timedelta(seconds=LOCK_S)}, "$inc": {"attempts": 1}},
            )
            is not None
        )

    def _call_crm(self, item):
        key = f"outbox-{item['_id']}"
        if item["kind"] == "unbind":
            self.crm.unbind(item["openid"], item["memberID"], idempotency_key=key)
        elif item["kind"] == "save_info":  # the member's details, for the CRM to review
            self.crm.save_info(item["memberID"], item["payload"], idempotency_key=key)
        else:
            raise ValueError(f"unknown outbox kind {item['kind']}")

    @staticmethod
    def _already_done_code(item):
        return "not_bound" if item["kind"] == "unbind" else None

    def _retry_later(self, item, error):
        delay = min(MAX_BACKOFF_S, 10 * 2 ** min(item["attempts"], 10))
        self.collection.update_one(
            {"_id": item["_id"]},
            {
                "$set": {
                    "lockedUntil": self.clock.utcnow(),
                    "lastError": error,
                    "nextAttemptAt": self.clock.utcnow() + timedelta(seconds=delay),
                }
            },
        )

    def _finish(self, item, state, error=None):
        self.collection.update_one(
            {"_id": item["_id"]},
            {"$set": {"state": state, "finishedAt": self.clock.now_ms(), "lastError": error}},
        )
        return "delivered" if state == "done" else "rejected"

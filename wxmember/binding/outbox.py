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

from wxmember.clock import now_ms, utcnow
from wxmember.crm import CRMError, CRMRejected
from wxmember.logsafe import mask

log = logging.getLogger(__name__)

COLLECTION = "wxmember/outbox"
LOCK_S = 60
MAX_BACKOFF_S = 3600
BATCH = 1000


class Outbox:
    """Queues CRM notifications and delivers them."""

    def __init__(self, database, crm):
        self.collection = database[COLLECTION]
        self.crm = crm

    def ensure_indexes(self):
        """Pending items per member in order."""
        self.collection.create_index([("state", 1), ("memberID", 1), ("_id", 1)])

    def add(self, kind, member_id, openid, payload=None, session=None):
        """Queue one notification (``bind`` or ``unbind``) for ``member_id``."""
        self.collection.insert_one(
            {
                "_id": ObjectId(),
                "kind": kind,
                "memberID": member_id,
                "openid": openid,
                "payload": payload or {},
                "state": "pending",
                "attempts": 0,
                "createTime": now_ms(),
                "nextAttemptAt": utcnow(),
                "lockedUntil": utcnow(),
            },
            session=session,
        )

    def pending(self, member_id=None):
        """Pending notifications, oldest first."""
        query = {"state": "pending"}
        if member_id is not None:
            query["memberID"] = member_id
        return list(self.collection.find(query).sort("_id", pymongo.ASCENDING))

    def deliver(self, member_id=None):
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
        now = utcnow()
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
                    "lockedUntil": utcnow(),
                    "lastError": error,
                    "nextAttemptAt": utcnow() + timedelta(seconds=delay),
                }
            },
        )

    def _finish(self, item, state, error=None):
        self.collection.update_one(
            {"_id": item["_id"]},
            {"$set": {"state": state, "finishedAt": now_ms(), "lastError": error}},
        )
        return "delivered" if state == "done" else "rejected"

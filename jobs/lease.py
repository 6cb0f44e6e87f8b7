"""A lease in MongoDB: one process at a time runs a job, whichever of many holds it.

APScheduler's job stores cannot be shared between scheduler processes, so a job
that must run once takes this lease first. A holder that dies loses it when
``until`` passes; a long run renews it after every batch.
"""

import socket
import uuid
from datetime import timedelta

from pymongo import ReturnDocument
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from wxmember.clock import SYSTEM_CLOCK, Clock
from wxmember.db.collections import JOB_LEASES


class LeaseLost(Exception):
    """Another process took the lease (ours ran out); the run must stop."""


def new_owner() -> str:
    """A name for this process's claim: host, and a random part."""
    return f"{socket.gethostname()}-{uuid.uuid4().hex[:8]}"


class Lease:
    """The right to run job ``name`` until ``ttl_s`` after the last renewal."""

    def __init__(
        self,
        database: Database,
        name: str,
        owner: str,
        ttl_s: float = 300,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.collection = database[JOB_LEASES]
        self.name, self.owner, self.ttl = name, owner, timedelta(seconds=ttl_s)
        self.clock = clock

    @staticmethod
    def holders(database: Database) -> list[dict]:
        """Every job's lease: who holds it, until when, when a schedule last ran it."""
        return list(database[JOB_LEASES].find())

    def acquire(self, scheduled_every_s: float | None = None) -> bool:
        """Take the lease if it is free or expired; False when another process holds it.

        A scheduled run (``scheduled_every_s``: its interval) is also refused when any
        process started a scheduled run less than half an interval ago: each worker's
        scheduler fires every job, and the job is to run once per interval, not per worker.
        """
        now = self.clock.utcnow()
        condition = {"$or": [{"until": {"$lte": now}}, {"owner": self.owner}]}
        fields = {"owner": self.owner, "until": now + self.ttl, "since": now}
        if scheduled_every_s is not None:
            spacing = timedelta(seconds=scheduled_every_s / 2)
            due = {"$or": [{"scheduledAt": None}, {"scheduledAt": {"$lte": now - spacing}}]}
            condition = {"$and": [condition, due]}
            fields["scheduledAt"] = now
        try:
            self.collection.find_one_and_update(
                {"_id": self.name, **condition},
                {"$set": fields},
                upsert=True,
                return_document=ReturnDocument.AFTER,
            )
        except DuplicateKeyError:
            return False
        return True

    def renew(self) -> None:
        """Extend the lease; LeaseLost if it is no longer ours."""
        result = self.collection.update_one(
            {"_id": self.name, "owner": self.owner},
            {"$set": {"until": self.clock.utcnow() + self.ttl}},
        )
        if result.matched_count == 0:
            raise LeaseLost(self.name)

    def release(self) -> None:
        """Give the lease up now."""
        self.collection.update_one(
            {"_id": self.name, "owner": self.owner}, {"$set": {"until": self.clock.utcnow()}}
        )

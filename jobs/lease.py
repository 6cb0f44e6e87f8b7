"""A lease in MongoDB: one process at a time runs a job, whichever of many holds it.

APScheduler's job stores cannot be shared between scheduler processes, so a job
that must run once takes this lease first. A holder that dies loses it when
``until`` passes; a long run renews it after every batch.
"""

import socket
import uuid
from datetime import timedelta

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from wxmember.clock import utcnow

COLLECTION = "wxmember/job_leases"


class LeaseLost(Exception):
    """Another process took the lease (ours ran out); the run must stop."""


def new_owner():
    """A name for this process's claim: host, and a random part."""
    return f"{socket.gethostname()}-{uuid.uuid4().hex[:8]}"


class Lease:
    """The right to run job ``name`` until ``ttl_s`` after the last renewal."""

    def __init__(self, database, name, owner, ttl_s=300):
        self.collection = database[COLLECTION]
        self.name, self.owner, self.ttl = name, owner, timedelta(seconds=ttl_s)

    def acquire(self, scheduled_every_s=None):
        """Take the lease if it is free or expired; False when another process holds it.

        A scheduled run (``scheduled_every_s``: its interval) is also refused when any
        process started a scheduled run less than half an interval ago: each worker's
        scheduler fires every job, and the job is to run once per interval, not per worker.
        """
        now = utcnow()
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

    def renew(self):
        """Extend the lease; LeaseLost if it is no longer ours."""
        result = self.collection.update_one(
            {"_id": self.name, "owner": self.owner}, {"$set": {"until": utcnow() + self.ttl}}
        )
        if result.matched_count == 0:
            raise LeaseLost(self.name)

    def release(self):
        """Give the lease up now."""
        self.collection.update_one(
            {"_id": self.name, "owner": self.owner}, {"$set": {"until": utcnow()}}
        )


def holders(database):
    """Every job's lease: ``_id`` (the job), ``owner``, ``since``, ``until``."""
    return list(database[COLLECTION].find())

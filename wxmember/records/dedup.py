"""The delivery ledger: which WeChat deliveries were already taken, kept for a TTL.

A delivery is claimed by inserting its key as ``_id``; MongoDB's unique ``_id``
lets exactly one of several concurrent deliveries (in any process) win. Each
claim carries a token of its own, so that a claim the driver sent twice (a
retried write the engine applied just before a crash) is still known as ours.
"""

import uuid
from datetime import timedelta

from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from wxmember.clock import SYSTEM_CLOCK, Clock
from wxmember.db.collections import DELIVERIES


class NonceReused(Exception):
    """A signed nonce already used by another delivery: a replayed signature."""


class DeliveryLedger:
    """Claims WeChat deliveries so that each is handled once."""

    def __init__(
        self, database: Database, ttl_s: float = 3600, clock: Clock = SYSTEM_CLOCK
    ) -> None:
        self.collection = database[DELIVERIES]
        self.ttl = timedelta(seconds=ttl_s)
        self.clock = clock

    def ensure_indexes(self) -> None:
        """Claims expire with their ``expireAt``; a signed nonce is used by one delivery only."""
        self.collection.create_index("expireAt", expireAfterSeconds=0)
        self.collection.create_index(
            "nonce", unique=True, partialFilterExpression={"nonce": {"$exists": True}}
        )

    def claim(self, key: str, nonce: str | None = None) -> bool:
        """Return True for the first delivery of ``key``, False for every retry.

        ``nonce`` (the request's signed ``timestamp|nonce``) is kept with the claim:
        a second, different delivery under it is a captured signature reused for a
        forged body (in plain mode the signature does not cover the body): NonceReused.
        """
        now = self.clock.utcnow()
        token = uuid.uuid4().hex
        claim = {"_id": key, "claimedAt": now, "expireAt": now + self.ttl, "by": token}
        if nonce:
            claim["nonce"] = nonce
        try:
            self.collection.insert_one(claim)
        except DuplicateKeyError:
            # another delivery's claim, or our own write retried after the server took it
            first = self.collection.find_one({"_id": key}, {"by": 1})
            if first is None:  # the clash was the nonce's: another delivery used it
                raise NonceReused(nonce) from None
            return first.get("by") == token
        return True

    def take_over(self, key: str, older_than_s: float) -> bool:
        """Take the claim of a first delivery that failed or went silent; True if taken.

        A claim whose handler raised, or that is older than ``older_than_s`` without
        its log record (the process died, the record could not be written), would
        otherwise leave the message unhandled for good. Exactly one retry wins it.
        """
        now = self.clock.utcnow()
        taken = self.collection.update_one(
            {
                "_id": key,
                "$or": [
                    {"failed": True},
                    {"claimedAt": {"$lt": now - timedelta(seconds=older_than_s)}},
                ],
            },
            {"$set": {"claimedAt": now, "by": uuid.uuid4().hex, "failed": False}},
        )
        return taken.modified_count == 1

    def mark_failed(self, key: str) -> None:
        """The handler of ``key`` raised: retries stop waiting for its reply."""
        self.collection.update_one({"_id": key}, {"$set": {"failed": True}})

    def failed(self, key: str) -> bool:
        """True when the first delivery of ``key`` failed or its claim is gone."""
        claim = self.collection.find_one({"_id": key}, {"failed": 1})
        return claim is None or bool(claim.get("failed"))

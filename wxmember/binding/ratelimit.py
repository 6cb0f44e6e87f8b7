"""Fixed-window rate limits counted in MongoDB, so every process shares them."""

from datetime import timedelta

from pymongo import ReturnDocument
from pymongo.database import Database

from wxmember.clock import SYSTEM_CLOCK, Clock
from wxmember.db.collections import RATE_LIMITS


class RateLimiter:
    """``allow(name, key, limit, window_s)`` counts one hit and says whether it is allowed."""

    def __init__(self, database: Database, clock: Clock = SYSTEM_CLOCK) -> None:
        self.collection = database[RATE_LIMITS]
        self.clock = clock

    def ensure_indexes(self) -> None:
        """Windows are deleted once they are over."""
        self.collection.create_index("expireAt", expireAfterSeconds=0)

    def allow(self, name: str, key: str, limit: int, window_s: int) -> str | None:
        """Count a hit of ``key`` in the current window: the window's id, or None past ``limit``.

        A refused hit is not counted; ``give_back`` uncounts an allowed one whose
        action did not happen.
        """
        window = int(self.clock.now_s() // window_s)
        counter_id = f"{name}|{key}|{window_s}|{window}"
        counter = self.collection.find_one_and_update(
            {"_id": counter_id},
            {
                "$inc": {"hits": 1},
                "$setOnInsert": {"expireAt": self.clock.utcnow() + timedelta(seconds=window_s)},
            },
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        if counter["hits"] <= limit:
            return counter_id
        self.give_back(counter_id)
        return None

    def give_back(self, counter_id: str) -> None:
        """Uncount one hit of the window ``counter_id``."""
        self.collection.update_one({"_id": counter_id}, {"$inc": {"hits": -1}})

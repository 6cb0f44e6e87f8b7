"""Fixed-window rate limits counted in MongoDB, so every process shares them."""

import time
from datetime import timedelta

from pymongo import ReturnDocument

from wxmember.clock import utcnow

COLLECTION = "wxmember/rate_limits"


class RateLimiter:
    """``allow(name, key, limit, window_s)`` counts one hit and says whether it is allowed."""

    def __init__(self, database):
        self.collection = database[COLLECTION]

    def ensure_indexes(self):
        """Windows are deleted once they are over."""
        self.collection.create_index("expireAt", expireAfterSeconds=0)

    def allow(self, name, key, limit, window_s):
        """Count a hit of ``key`` in the current window: the window's id, or None past ``limit``.

        A refused hit is not counted; ``give_back`` uncounts an allowed one whose
        action did not happen.
        """
        window = int(time.time() // window_s)
        counter_id = f"{name}|{key}|{window_s}|{window}"
        counter = self.collection.find_one_and_update(
            {"_id": counter_id},
            {
                "$inc": {"hits": 1},
                "$setOnInsert": {"expireAt": utcnow() + timedelta(seconds=window_s)},
            },
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        if counter["hits"] <= limit:
            return counter_id
        self.give_back(counter_id)
        return None

    def give_back(self, counter_id):
        """Uncount one hit of the window ``counter_id``."""
        self.collection.update_one({"_id": counter_id}, {"$inc": {"hits": -1}})

"""``lavico/activity``: the CRM's coupon activities (seed 000), pulled by the ``activities`` job.

Activities are upserted by ``promotion_code``; one the CRM no longer lists is kept
(shake records point at it) but marked ``active: false``.
"""

from pymongo import UpdateOne
from pymongo.database import Database

from wxmember.db.collections import COUPON_ACTIVITIES


class CouponActivities:
    """The pulled coupon activities: written by the pull, read by the shake's prizes."""

    def __init__(self, database: Database) -> None:
        self.collection = database[COUPON_ACTIVITIES]

    def ensure_indexes(self) -> None:
        """One activity per promotion code (the pull makes sure of it before each run)."""
        self.collection.create_index("promotion_code", unique=True)

    def store(self, activities: list[dict]) -> None:
        """Insert or replace the fields of ``activities`` by their ``promotion_code``."""
        self.collection.bulk_write(
            [
                UpdateOne(
                    {"promotion_code": activity["promotion_code"]},
                    {"$set": activity},
                    upsert=True,
                )
                for activity in activities
            ]
        )

    def retire_older_than(self, pulled_at: int) -> int:
        """Mark inactive what a pull started at ``pulled_at`` did not see; how many."""
        retired = self.collection.update_many(
            {"pulledAt": {"$lt": pulled_at}, "active": True}, {"$set": {"active": False}}
        )
        return retired.modified_count

    def all_active(self, limit: int = 500) -> list[dict]:
        """The active coupon activities by promotion code (the prizes staff may choose)."""
        found = self.collection.find({"active": True}).sort("promotion_code", 1)
        return list(found.limit(limit))

    def active(self, promotion_code: str) -> dict | None:
        """The active coupon activity of ``promotion_code``, or None."""
        return self.collection.find_one({"promotion_code": promotion_code, "active": True})

"""``lavico/user/lastId``: where each CRM feed sync resumes (one document per feed)."""

from wxmember.clock import now_ms

COLLECTION = "lavico/user/lastId"


def read_cursor(database, name):
    """The highest key of feed ``name`` already stored (0 before the first sync)."""
    doc = database[COLLECTION].find_one({"_id": name})
    return doc["lastId"] if doc else 0


def save_cursor(database, name, last_id):
    """Move the cursor of feed ``name``: call only once everything up to ``last_id`` is stored."""
    database[COLLECTION].update_one(
        {"_id": name}, {"$set": {"lastId": last_id, "updatedAt": now_ms()}}, upsert=True
    )

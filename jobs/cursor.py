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


def follow_feed(database, name, fetch, key, limit):
    """Pages of a CRM feed after the cursor; the cursor moves once a page has been handled.

    ``fetch(after=, limit=)`` answers ``(rows, next)``. The cursor is saved when the
    consumer asks for the next page, so a page whose handling raised is fetched
    again on the next run, never skipped.
    """
    cursor = read_cursor(database, name)
    while True:
        rows, more = fetch(after=cursor, limit=limit)
        if not rows:
            return
        yield rows
        cursor = max(row[key] for row in rows)
        save_cursor(database, name, cursor)
        if more is None:
            return

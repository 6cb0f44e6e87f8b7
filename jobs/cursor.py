"""``lavico/user/lastId``: where each CRM feed sync resumes (one document per feed)."""

from collections.abc import Callable, Iterator

from pymongo.database import Database

from wxmember.clock import SYSTEM_CLOCK, Clock
from wxmember.db.collections import FEED_CURSORS


def read_cursor(database: Database, name: str) -> int:
    """The highest key of feed ``name`` already stored (0 before the first sync)."""
    doc = database[FEED_CURSORS].find_one({"_id": name})
    return doc["lastId"] if doc else 0


def save_cursor(database: Database, name: str, last_id: int, clock: Clock = SYSTEM_CLOCK) -> None:
    """Move the cursor of feed ``name``: call only once everything up to ``last_id`` is stored."""
    database[FEED_CURSORS].update_one(
        {"_id": name}, {"$set": {"lastId": last_id, "updatedAt": clock.now_ms()}}, upsert=True
    )


def follow_feed(
    database: Database,
    name: str,
    fetch: Callable,
    key: str,
    limit: int,
    clock: Clock = SYSTEM_CLOCK,
) -> Iterator[list[dict]]:
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
        save_cursor(database, name, cursor, clock)
        if more is None:
            return

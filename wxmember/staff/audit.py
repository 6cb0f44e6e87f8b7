"""``wxmember/audit``: who changed what, from the console, the staff API or the CLI.

Append-only: this module only ever inserts (and reads); a correction is a new
row. Each row: ``time`` (ms), ``who`` (username, or ``api-token`` for the shared
machine token), ``userId``, ``role``, ``via`` (console, api, cli), ``action``
(e.g. ``points.adjust``), ``target`` (e.g. ``member:16426780``) and ``details``.
"""

import pymongo

from wxmember.clock import SYSTEM_CLOCK, Clock
from wxmember.db.collections import AUDIT

NEWEST_FIRST = [("time", pymongo.DESCENDING), ("_id", pymongo.DESCENDING)]
MAX_DETAIL = 2000  # characters of one detail value kept (a body can be large)


def _trimmed(details):
    out = {}
    for key, value in (details or {}).items():
        if isinstance(value, str) and len(value) > MAX_DETAIL:
            value = value[:MAX_DETAIL] + "…"
        out[str(key)] = value
    return out


class AuditLog:
    """Records changes and reads them back newest first, filtered."""

    def __init__(self, database, clock: Clock = SYSTEM_CLOCK):
        self.clock = clock
        self.collection = database[AUDIT]

    def ensure_indexes(self):
        self.collection.create_index(NEWEST_FIRST)
        self.collection.create_index([("who", 1), *NEWEST_FIRST])
        self.collection.create_index([("action", 1), *NEWEST_FIRST])

    def record(self, actor, action, target, details=None):
        """Append one row for a change ``actor`` made."""
        row = {
            "time": self.clock.now_ms(),
            "who": actor.username,
            "userId": actor.user_id,
            "role": actor.role,
            "via": actor.via,
            "action": action,
            "target": target,
            "details": _trimmed(details),
        }
        self.collection.insert_one(row)
        return row

    def query(self, who=None, action=None, since=None, until=None, limit=50, skip=0):
        """Rows newest first (``since``/``until`` in ms) and whether more follow."""
        match = {name: value for name, value in (("who", who), ("action", action)) if value}
        bounds = {}
        if since is not None:
            bounds["$gte"] = since
        if until is not None:
            bounds["$lt"] = until
        if bounds:
            match["time"] = bounds
        rows = list(self.collection.find(match).sort(NEWEST_FIRST).skip(skip).limit(limit + 1))
        return rows[:limit], len(rows) > limit

    def actions(self):
        """The actions recorded so far (for the filter's choices)."""
        return sorted(self.collection.distinct("action"))

"""``wxmember/staff_sessions``: console sign-ins, kept in MongoDB so every process shares them.

The browser holds a random session id in its own cookie (never the member pages'
Flask session); the database holds its SHA-256, the username, the CSRF token of
the session and its times. A session ends after ``idle_s`` without a request or
``absolute_s`` after sign-in, whichever comes first; both are checked on every
request (the TTL index only clears the leftovers). Signing out, disabling the
account or changing its password ends it at once.
"""

import hashlib
import secrets
from datetime import datetime, timezone

from wxmember.clock import SYSTEM_CLOCK, Clock
from wxmember.db.collections import STAFF_SESSIONS

TOUCH_EVERY_MS = 60_000  # the idle clock is moved at most once a minute (one write)


def _digest(session_id):
    return hashlib.sha256(session_id.encode("utf-8", "surrogatepass")).hexdigest()


def _at(ms):
    return datetime.fromtimestamp(ms / 1000, timezone.utc)


class ConsoleSessions:
    """Opens, resolves and ends console sessions."""

    def __init__(self, database, idle_s=1800, absolute_s=12 * 3600, clock: Clock = SYSTEM_CLOCK):
        self.clock = clock
        self.collection = database[STAFF_SESSIONS]
        self.idle_ms, self.absolute_ms = idle_s * 1000, absolute_s * 1000

    def ensure_indexes(self):
        self.collection.create_index("expireAt", expireAfterSeconds=0)
        self.collection.create_index("username")

    def open(self, username):
        """A new session for ``username``: ``(session_id, csrf_token)``."""
        session_id, now = secrets.token_urlsafe(32), self.clock.now_ms()
        csrf = secrets.token_urlsafe(32)
        self.collection.insert_one(
            {
                "_id": _digest(session_id),
                "username": username,
                "csrf": csrf,
                "createdAt": now,
                "lastSeen": now,
                "expireAt": _at(self._ends(now, now)),
            }
        )
        return session_id, csrf

    def _ends(self, created, last_seen):
        return min(last_seen + self.idle_ms, created + self.absolute_ms)

    def resolve(self, session_id):
        """The live session of this id (its idle clock moved on), or None."""
        if not session_id or len(session_id) > 100:
            return None
        found = self.collection.find_one({"_id": _digest(session_id)})
        now = self.clock.now_ms()
        if found is None or now >= self._ends(found["createdAt"], found["lastSeen"]):
            return None
        if now - found["lastSeen"] >= TOUCH_EVERY_MS:
            self.collection.update_one(
                {"_id": found["_id"]},
                {"$set": {"lastSeen": now, "expireAt": _at(self._ends(found["createdAt"], now))}},
            )
            found["lastSeen"] = now
        return found

    def close(self, session_id):
        """End one session (sign-out)."""
        if session_id:
            self.collection.delete_one({"_id": _digest(session_id)})

    def close_all(self, username):
        """End every session of ``username``; return how many."""
        return self.collection.delete_many({"username": username}).deleted_count

"""``wxmember/staff_tokens``: API tokens of staff accounts, stored as their SHA-256 only.

A token is 256 random bits, so a plain hash is enough to make a stolen copy of the
collection useless, and it is looked up in one indexed read per request. The
token itself is shown once, when it is issued.
"""

import hashlib
import secrets

from wxmember.clock import SYSTEM_CLOCK, Clock
from wxmember.db.collections import STAFF_TOKENS

PREFIX = "wxs_"


def _digest(token):
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


class StaffTokens:
    """Issues, resolves and revokes the API tokens of staff accounts."""

    def __init__(self, database, clock: Clock = SYSTEM_CLOCK):
        self.clock = clock
        self.collection = database[STAFF_TOKENS]

    def ensure_indexes(self):
        self.collection.create_index("username")

    def issue(self, username):
        """A new token for ``username``: returned once, stored only as its hash."""
        token = PREFIX + secrets.token_urlsafe(32)
        self.collection.insert_one(
            {"_id": _digest(token), "username": username, "createdAt": self.clock.now_ms()}
        )
        return token

    def username_for(self, token):
        """The username a token belongs to, or None (the account may still be disabled)."""
        if not token.startswith(PREFIX) or len(token) > 100:
            return None
        found = self.collection.find_one({"_id": _digest(token)}, {"username": 1})
        return found["username"] if found else None

    def revoke_all(self, username):
        """Revoke every token of ``username``; return how many."""
        return self.collection.delete_many({"username": username}).deleted_count

    def count(self, username):
        return self.collection.count_documents({"username": username})

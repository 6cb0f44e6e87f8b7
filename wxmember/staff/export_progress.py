"""``wxmember/console_exports``: how far each log export of a staff member is, so the
console page that started it can show the rows written."""

import re
from datetime import timedelta

from wxmember.clock import SYSTEM_CLOCK
from wxmember.db.collections import CONSOLE_EXPORTS

PROGRESS_ID = re.compile(r"[A-Za-z0-9_-]{8,64}")  # chosen by the page


class ExportProgress:
    """``wxmember/console_exports``: how far each export is, for the page that follows it."""

    def __init__(self, database, clock=SYSTEM_CLOCK):
        self.collection, self.clock = database[CONSOLE_EXPORTS], clock

    def ensure_indexes(self):
        """Kept a day."""
        self.collection.create_index("expireAt", expireAfterSeconds=0)

    def start(self, export_id, username, fmt, total):
        """The tracker of a new export (one that writes nothing without a valid id)."""
        if not PROGRESS_ID.fullmatch(export_id or ""):
            return Tracker(self.collection, None)
        document = {
            "username": username,
            "format": fmt,
            "state": "writing",
            "done": 0,
            "total": total,
            "createdAt": self.clock.now_ms(),
            "expireAt": self.clock.utcnow() + timedelta(days=1),
        }
        self.collection.replace_one({"_id": export_id}, document, upsert=True)
        return Tracker(self.collection, export_id)

    def of(self, export_id, username):
        """The progress document of ``username``'s export, or None."""
        if not PROGRESS_ID.fullmatch(export_id or ""):
            return None
        return self.collection.find_one({"_id": export_id, "username": username})


class Tracker:
    """Rows written of the total, for one export."""

    def __init__(self, collection, export_id):
        self.collection, self.export_id = collection, export_id

    def update(self, done, state="writing"):
        if self.export_id is not None:
            self.collection.update_one(
                {"_id": self.export_id}, {"$set": {"done": done, "state": state}}
            )

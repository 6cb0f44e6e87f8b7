"""``welab/feeds``: items shown in the account's activity stream (动态)."""

from pymongo.client_session import ClientSession
from pymongo.database import Database

from wxmember.clock import SYSTEM_CLOCK, Clock
from wxmember.db import insert_new
from wxmember.db.collections import FEEDS


class FeedStore:
    """Appends visible activity items: follows, registrations, bindings, prizes."""

    def __init__(self, database: Database, clock: Clock = SYSTEM_CLOCK) -> None:
        self.collection = database[FEEDS]
        self.clock = clock

    def ensure_indexes(self) -> None:
        """Newest-first listing, overall and per user."""
        self.collection.create_index([("createTime", -1)])
        self.collection.create_index([("wxid", 1), ("createTime", -1)])

    def recent(self, wxid: str, limit: int) -> list[dict]:
        """The newest ``limit`` items of one user."""
        return list(self.collection.find({"wxid": wxid}).sort("createTime", -1).limit(limit))

    def append(
        self,
        wxid: str,
        action: str,
        content: str,
        data: dict | None = None,
        session: ClientSession | None = None,
    ) -> None:
        """Add one item; ``content`` is the Chinese text members see."""
        item = {
            "createTime": self.clock.now_ms(),
            "wxid": wxid,
            "action": action,
            "content": content,
            "data": data or {},
        }
        insert_new(self.collection, item, session)  # a driver's retry of it is not a second item

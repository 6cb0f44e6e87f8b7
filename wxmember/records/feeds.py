"""``welab/feeds``: items shown in the account's activity stream (动态)."""

from wxmember.clock import now_ms
from wxmember.db import insert_new

COLLECTION = "welab/feeds"


class FeedStore:
    """Appends visible activity items: follows, registrations, bindings, prizes."""

    def __init__(self, database):
        self.collection = database[COLLECTION]

    def ensure_indexes(self):
        """Newest-first listing, overall and per user."""
        self.collection.create_index([("createTime", -1)])
        self.collection.create_index([("wxid", 1), ("createTime", -1)])

    def append(self, wxid, action, content, data=None, session=None):
        """Add one item; ``content`` is the Chinese text members see."""
        item = {
            "createTime": now_ms(),
            "wxid": wxid,
            "action": action,
            "content": content,
            "data": data or {},
        }
        insert_new(self.collection, item, session)  # a driver's retry of it is not a second item

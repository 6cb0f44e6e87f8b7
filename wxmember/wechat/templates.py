"""``wxmember/template_messages``: WeChat template messages waiting to be sent.

A message is queued ``pending``; the ``templates`` job takes it by one atomic
change to ``sending`` (so two workers never send it twice) and marks it ``sent``,
or ``pending`` again for a retry, or ``failed``.
See https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Template_Message_Interface.html
"""

from pymongo import ReturnDocument
from pymongo.database import Database

from wxmember.clock import SYSTEM_CLOCK, Clock
from wxmember.db.collections import TEMPLATE_MESSAGES


class TemplateQueue:
    """Queues template messages and hands them out once."""

    def __init__(self, database: Database, clock: Clock = SYSTEM_CLOCK) -> None:
        self.collection = database[TEMPLATE_MESSAGES]
        self.clock = clock

    def add(self, openid: str, template: str, data: dict) -> None:
        """Queue one message of kind ``template`` (``grade_change``…) for ``openid``."""
        self.collection.insert_one(
            {
                "openid": openid,
                "template": template,
                "state": "pending",
                "data": data,
                "createTime": self.clock.now_ms(),
            }
        )

    def waiting(self) -> int:
        """How many messages are pending."""
        return self.collection.count_documents({"state": "pending"})

    def take(self, template: str, skip: list) -> dict | None:
        """A pending message of ``template`` not in ``skip`` (ids), now ``sending``; or None."""
        return self.collection.find_one_and_update(
            {"state": "pending", "template": template, "_id": {"$nin": skip}},
            {"$set": {"state": "sending"}, "$inc": {"attempts": 1}},
            return_document=ReturnDocument.AFTER,
        )

    def sent(self, message: dict) -> None:
        """``message`` went out."""
        self.collection.update_one(
            {"_id": message["_id"]}, {"$set": {"state": "sent", "sentAt": self.clock.now_ms()}}
        )

    def not_sent(self, message: dict, error: str, retry: bool) -> None:
        """``message`` failed with ``error``: pending again when ``retry``, else failed."""
        self.collection.update_one(
            {"_id": message["_id"]},
            {"$set": {"state": "pending" if retry else "failed", "lastError": error}},
        )

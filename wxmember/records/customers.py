"""``welab/customers``: one document per WeChat user, keyed by ``wechatid`` (the openid)."""

from collections.abc import Iterable, Iterator

from bson import ObjectId
from pymongo import UpdateOne
from pymongo.client_session import ClientSession
from pymongo.database import Database
from pymongo.errors import BulkWriteError

from wxmember import db
from wxmember.clock import SYSTEM_CLOCK, Clock
from wxmember.db.collections import CUSTOMERS
from wxmember.records.member_card import (
    ACTION,
    BOUND,
    CARD,
    CARD_NUMBER,
    CARD_TYPE,
    MEMBER_ID,
    bound_member_id,
    new_card,
)

# WeChat's user/info fields kept on the customer, with their names in seed 000.
PROFILE_FIELDS = {
    "nickname": "nickname",
    "headimgurl": "headimgurl",
    "city": "city",
    "province": "province",
    "country": "country",
    "language": "language",
    "unionid": "unionid",
    "remark": "remarks",
}
WECHAT_SEX = {1: "male", 2: "female"}
BINDING_UNIQUE = (MEMBER_ID, CARD_NUMBER, "mobile")
# What "积分"/"余额" needs to know of a customer: is it a bound member, with which card.
BINDING_FIELDS = {"_id": 0, BOUND: 1, CARD: 1}


class CustomerStore:
    """Reads and single-document atomic writes of followers."""

    def __init__(self, database: Database, clock: Clock = SYSTEM_CLOCK) -> None:
        self.collection = database[CUSTOMERS]
        self.clock = clock

    @property
    def database(self) -> Database:
        """The database of the store, for a transaction that writes other stores too."""
        return self.collection.database

    def ensure_indexes(self) -> None:
        """Create the unique openid index and the ones staff queries use."""
        self.collection.create_index("wechatid", unique=True)
        # One card, one member id and one mobile per bound WeChat user, kept by MongoDB.
        for field in BINDING_UNIQUE:
            self.collection.create_index(field, unique=True, partialFilterExpression={BOUND: True})

    def follow(self, openid: str, scene: str | None = None) -> bool:
        """Mark ``openid`` as following; return True when this is a new follower."""
        fields = {
            "isFollow": True,
            "followTime": self.clock.now_s(),
            "lastModified": self.clock.now_ms(),
        }
        if scene:
            fields["scene"] = scene
        result = self.collection.update_one(
            {"wechatid": openid},
            {"$set": fields, "$setOnInsert": {"messageCount": 0}},
            upsert=True,
        )
        return result.upserted_id is not None

    def unfollow(self, openid: str) -> None:
        """Mark ``openid`` as no longer following and record when."""
        now = self.clock.now_ms()
        self.collection.update_one(
            {"wechatid": openid},
            {
                "$set": {"isFollow": False, "unfollowTime": now, "lastModified": now},
                "$setOnInsert": {"messageCount": 0},
            },
            upsert=True,
        )

    def record_message(self, openid: str) -> None:
        """Count one message the user sent and remember when."""
        self.collection.update_one({"wechatid": openid}, self._message_update(), upsert=True)

    def record_member_query(self, openid: str) -> dict | None:
        """``record_message`` for a "积分"/"余额" text; return the binding, or None if unbound."""
        return self._update_and_read_binding(openid, self._message_update())

    def ensure(self, openid: str, session: ClientSession | None = None) -> None:
        """Create the customer if this is the first we hear of it; change nothing else."""
        self.collection.update_one(
            {"wechatid": openid}, self._ensure_update(), upsert=True, session=session
        )

    def ensure_member_query(self, openid: str) -> dict | None:
        """``ensure`` for a "积分"/"余额" menu key; return the binding, or None if unbound."""
        return self._update_and_read_binding(openid, self._ensure_update())

    def _update_and_read_binding(self, openid, update):
        """Apply ``update`` (upsert) once; the binding (``BINDING_FIELDS``) or None.

        Most who ask are not bound yet, and for them this is one update, made only
        where ``isRegister`` is not true. Otherwise the update lands by openid
        (creating a new customer), and a bound member's binding is read after it.
        Exactly one of the two updates matches, so a message is counted once.
        ``find_one_and_update`` would read it in the same operation, but the
        embedded engine scans the whole collection for every one that matches.
        """
        unbound = {"wechatid": openid, BOUND: {"$ne": True}}
        if self.collection.update_one(unbound, update).matched_count:
            return None
        by_openid = self.collection.update_one({"wechatid": openid}, update, upsert=True)
        if by_openid.upserted_id is not None:
            return None
        return self.collection.find_one({"wechatid": openid, BOUND: True}, BINDING_FIELDS)

    def update_location(self, openid: str, position: dict) -> None:
        """Remember the follower's latest reported position."""
        now = self.clock.now_ms()
        self.collection.update_one(
            {"wechatid": openid},
            {
                "$set": {"location": {**position, "time": now}, "lastModified": now},
                "$setOnInsert": {"isFollow": True, "messageCount": 0},
            },
            upsert=True,
        )

    def update_profile(self, openid: str, info: dict) -> bool:
        """Store the fields of a WeChat ``user/info`` answer on the customer."""
        fields = {ours: info[theirs] for theirs, ours in PROFILE_FIELDS.items() if info.get(theirs)}
        if info.get("sex") in WECHAT_SEX:
            fields["gender"] = WECHAT_SEX[info["sex"]]
        if not fields:
            return False
        fields["lastModified"] = self.clock.now_ms()
        result = self.collection.update_one({"wechatid": openid}, {"$set": fields})
        return result.matched_count == 1

    # -- the member card -------------------------------------------------------------

    def bind(
        self,
        openid: str,
        member_id: int,
        card_number: str,
        card_type: int,
        mobile: str,
        session: ClientSession | None = None,
    ) -> bool:
        """Record the binding; False when ``openid`` is already bound.

        Raises DuplicateKeyError when the card, member or mobile is bound to another user.
        """
        now = self.clock.now_ms()
        self.ensure(openid, session)
        result = self.collection.update_one(
            {"wechatid": openid, BOUND: {"$ne": True}},
            {
                "$set": {
                    CARD: new_card(member_id, card_number, card_type, now),
                    BOUND: True,
                    "registerTime": now,
                    "mobile": mobile,
                    "lastModified": now,
                }
            },
            session=session,
        )
        return result.modified_count == 1

    def unbind(
        self, openid: str, member_id: int | None = None, session: ClientSession | None = None
    ) -> dict | None:
        """End the binding; return the customer as it was, or None when it was not bound."""
        now = self.clock.now_ms()
        query = {"wechatid": openid, BOUND: True}
        if member_id is not None:
            query[MEMBER_ID] = member_id
        return self.collection.find_one_and_update(
            query,
            {
                "$set": {
                    ACTION: "unbind",
                    BOUND: False,
                    "unRegisterTime": now,
                    "lastModified": now,
                }
            },
            session=session,
        )

    def refresh_card(self, customer_id: ObjectId, card_number: str, card_type: int) -> None:
        """Copy the CRM's card number and type onto the bound customer ``customer_id``."""
        self.collection.update_one(
            {"_id": customer_id, BOUND: True},
            {"$set": {CARD_NUMBER: card_number, CARD_TYPE: card_type}},
        )

    def refresh_member(self, member_id: int, fields: dict) -> int:
        """Set ``fields`` on the customer bound to ``member_id``; 1 if it changed, else 0.

        Raises DuplicateKeyError when a new card number or mobile is another binding's.
        """
        return self.collection.update_one(*self._member_update(member_id, fields)).modified_count

    def refresh_members(self, fields: dict[int, dict]) -> tuple[int, list[int]]:
        """``refresh_member`` for many, in one unordered bulk write that does not wait for
        the journal (``db.without_journal_wait``); the changed count and the member ids whose
        update failed (their new card number or mobile is another binding's)."""
        members = list(fields)
        updates = [UpdateOne(*self._member_update(member, fields[member])) for member in members]
        try:
            result = db.without_journal_wait(self.collection).bulk_write(updates, ordered=False)
        except BulkWriteError as error:
            failed = [members[failure["index"]] for failure in error.details.get("writeErrors", [])]
            return error.details.get("nModified", 0), failed
        return result.modified_count, []

    def _member_update(self, member_id, fields):
        """Filter and update that refresh the customer bound to ``member_id``."""
        return (
            {MEMBER_ID: member_id, BOUND: True},
            {"$set": {**fields, "lastModified": self.clock.now_ms()}},
        )

    def update_details(
        self, openid: str, fields: dict, session: ClientSession | None = None
    ) -> None:
        """Set the member's own details on the customer (``realname``, ``gender``…)."""
        fields = {**fields, "lastModified": self.clock.now_ms()}
        self.collection.update_one({"wechatid": openid}, {"$set": fields}, session=session)

    def add_shake_win(self, openid: str, record: dict) -> None:
        """Append a won coupon to the customer's ``shake`` array (seed 000)."""
        self.collection.update_one({"wechatid": openid}, {"$push": {"shake": record}})

    # -- reading ---------------------------------------------------------------------

    def bound_to(self, field: str, value: object) -> dict | None:
        """The customer bound by ``field`` (``mobile``, ``member_card.MEMBER_ID``…)."""
        return self.collection.find_one({field: value, BOUND: True})

    def bound_to_member(self, member_id: int) -> dict | None:
        """The customer bound to the CRM member ``member_id``, or None."""
        return self.bound_to(MEMBER_ID, member_id)

    def bound_to_members(self, member_ids: Iterable[int]) -> dict[int, dict]:
        """``{member id: customer}`` of those of ``member_ids`` bound on WeChat (one query)."""
        query = {MEMBER_ID: {"$in": list(set(member_ids))}, BOUND: True}
        return {bound_member_id(c): c for c in self.collection.find(query)}

    def get(self, openid: str) -> dict | None:
        """The customer document, or None."""
        return self.collection.find_one({"wechatid": openid})

    def find(self, query: str, limit: int = 20) -> list[dict]:
        """Customers whose openid is ``query``, or bound ones whose mobile, card number or
        member id (digits) it is; each once, at most ``limit`` per way of matching."""
        tries = [
            {"wechatid": query},
            {"mobile": query, BOUND: True},
            {CARD_NUMBER: query, BOUND: True},
        ]
        if query.isascii() and query.isdigit() and 0 < int(query) < 2**53:
            tries.append({MEMBER_ID: int(query), BOUND: True})
        found = {}
        for condition in tries:
            for customer in self.collection.find(condition).limit(limit):
                found.setdefault(customer["wechatid"], customer)
        return list(found.values())

    def count_bound(self) -> int:
        """How many customers are bound to a card."""
        return self.collection.count_documents({BOUND: True})

    def bound_pages(self, size: int) -> Iterator[list[dict]]:
        """Every bound customer, in pages of ``size`` by ``_id`` (the next read when asked)."""
        query = {BOUND: True}
        last_id = None
        while True:
            page_query = {**query, "_id": {"$gt": last_id}} if last_id else query
            page = list(self.collection.find(page_query).sort("_id", 1).limit(size))
            if not page:
                return
            yield page
            last_id = page[-1]["_id"]

    def _message_update(self):
        now = self.clock.now_ms()
        return {
            "$set": {"lastMessageTime": now, "lastModified": now},
            "$inc": {"messageCount": 1},
            "$setOnInsert": {"isFollow": True},
        }

    def _ensure_update(self):
        return {
            "$setOnInsert": {
                "isFollow": True,
                "messageCount": 0,
                "lastModified": self.clock.now_ms(),
            }
        }

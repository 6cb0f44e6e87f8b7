"""``lavico/user/logs``: one record per business action, for every later statistic.

Seed 000 makes ``createTime`` (ms), ``wxid``, ``action`` and ``data`` (an object)
required. The store refuses a record without them, and on a real MongoDB the
collection carries a validator that does the same for any other writer.
"""

import base64
import binascii
import json
import logging
from collections.abc import Iterator

import pymongo
from bson import ObjectId
from bson.errors import InvalidId
from pymongo.client_session import ClientSession
from pymongo.database import Database
from pymongo.errors import CollectionInvalid, OperationFailure

from wxmember import db
from wxmember.clock import SYSTEM_CLOCK, Clock
from wxmember.db.collections import LOGS
from wxmember.refusals import InvalidRequest

log = logging.getLogger(__name__)

MAX_LIMIT = 500

VALIDATOR = {
    "$jsonSchema": {
        "bsonType": "object",
        "required": ["createTime", "wxid", "action", "data"],
        "properties": {
            "createTime": {"bsonType": ["long", "int", "double"]},
            "wxid": {"bsonType": "string", "minLength": 1},
            "action": {"bsonType": "string", "minLength": 1},
            "data": {"bsonType": "object"},
        },
    }
}
NEWEST_FIRST = [("createTime", pymongo.DESCENDING), ("_id", pymongo.DESCENDING)]


class InvalidRecord(ValueError):
    """A log record lacks one of the fields seed 000 requires."""


class InvalidQuery(InvalidRequest):
    """A staff query has a parameter that cannot be used."""

    code = "invalid_query"


class LogStore:
    """Appends log records and pages through them newest first."""

    def __init__(self, database: Database, clock: Clock = SYSTEM_CLOCK) -> None:
        self.database = database
        self.collection = database[LOGS]
        self.clock = clock

    def ensure_indexes(self) -> None:
        """Create the validator (real MongoDB only) and the query indexes."""
        if isinstance(self.database, Database):
            self._ensure_validator()
        self.collection.create_index(NEWEST_FIRST)
        self.collection.create_index([("wxid", 1), *NEWEST_FIRST])
        self.collection.create_index([("action", 1), *NEWEST_FIRST])
        self.collection.create_index("msgKey", sparse=True)

    def _ensure_validator(self):
        try:
            self.database.create_collection(LOGS, validator=VALIDATOR)
        except CollectionInvalid:  # it exists (perhaps another process just made it)
            try:
                self.database.command("collMod", LOGS, validator=VALIDATOR)
            except OperationFailure as exc:  # e.g. a user without the collMod privilege
                log.warning("could not set the %s validator: %s", LOGS, exc.code)

    def append(
        self,
        wxid: str,
        action: str,
        data: dict,
        msg_key: str | None = None,
        reply: str | None = None,
        session: ClientSession | None = None,
    ) -> dict:
        """Write one record; ``msg_key`` and ``reply`` tie it to a WeChat delivery."""
        record = {"createTime": self.clock.now_ms(), "wxid": wxid, "action": action, "data": data}
        check_record(record)
        if msg_key is not None:
            record["msgKey"] = msg_key
            record["reply"] = reply
        # a driver's retry of this insert is not a second record
        db.insert_new(self.collection, record, session)
        return record

    def reply_for(self, msg_key: str) -> dict | None:
        """The record written for a delivery, or None while it is not handled yet."""
        return self.collection.find_one({"msgKey": msg_key}, {"reply": 1})

    def query(
        self,
        wxid: str | None = None,
        action: str | None = None,
        since: int | None = None,
        until: int | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> tuple[list[dict], str | None]:
        """Return ``(records, next_cursor)``, newest first; ``since``/``until`` in ms.

        Each find is one flat filter (equalities and a ``createTime`` range) that
        the ``wxid``/``action``/``createTime`` indexes serve: a page after a cursor
        reads the rest of the cursor's own millisecond, then what is older, rather
        than one ``$or`` (which the embedded engine answers by scanning them all).
        """
        if not 1 <= limit <= MAX_LIMIT:
            raise InvalidQuery(f"limit must be between 1 and {MAX_LIMIT}")
        match = {name: value for name, value in (("wxid", wxid), ("action", action)) if value}
        records = []
        if cursor:
            created, oid = decode_cursor(cursor)
            if (since is None or since <= created) and (until is None or created < until):
                same_ms = {**match, "createTime": created, "_id": {"$lt": oid}}
                records = self._newest(same_ms, limit + 1)
            until = created if until is None else min(until, created)
        if len(records) <= limit:
            records += self._newest(
                {**match, **_time_range(since, until)}, limit + 1 - len(records)
            )
        if len(records) <= limit:
            return records, None
        records = records[:limit]
        return records, encode_cursor(records[-1])

    def count(self, **filters) -> int:
        """How many records ``scan`` with the same filters gives."""
        return self.collection.count_documents(_match(**filters))

    def scan(self, batch_size: int = 1000, **filters) -> Iterator[dict]:
        """Every record of the filters (``wxid``, ``action``, ``since``, ``until``), newest
        first, read ``batch_size`` at a time: for exports, whatever their size."""
        cursor = self.collection.find(_match(**filters), {"msgKey": 0, "reply": 0})
        return iter(cursor.sort(NEWEST_FIRST).batch_size(batch_size))

    def per_day(self, actions: list[str], since: int, until: int) -> dict[str, dict[str, int]]:
        """``{action: {"2026-05-29": n}}``: records of each action per Shanghai day in
        ``[since, until)`` (ms), counted by the database.

        One aggregation per action: an equality on ``action`` and a ``createTime`` range
        is what the ``action, createTime`` index serves on every engine (the embedded
        one scans the whole collection for an ``$in``).
        """
        in_window = _time_range(since, until)
        return {
            action: db.per_day(self.collection, {"action": action, **in_window}, "createTime")
            for action in actions
        }

    def _newest(self, query, limit):
        return list(self.collection.find(query).sort(NEWEST_FIRST).limit(limit))


def check_record(record: dict) -> None:
    """Raise InvalidRecord unless the seed-000 required fields are present and typed."""
    if not isinstance(record.get("createTime"), int) or isinstance(record["createTime"], bool):
        raise InvalidRecord("createTime (ms) is required")
    for field in ("wxid", "action"):
        if not isinstance(record.get(field), str) or not record[field]:
            raise InvalidRecord(f"{field} is required")
    if not isinstance(record.get("data"), dict):
        raise InvalidRecord("data must be an object")


def _match(wxid=None, action=None, since=None, until=None):
    equal = {name: value for name, value in (("wxid", wxid), ("action", action)) if value}
    return {**equal, **_time_range(since, until)}


def _time_range(since, until):
    bounds = {}
    if since is not None:
        bounds["$gte"] = since
    if until is not None:
        bounds["$lt"] = until
    return {"createTime": bounds} if bounds else {}


def encode_cursor(record: dict) -> str:
    """An opaque cursor pointing just after ``record``."""
    raw = json.dumps([record["createTime"], str(record["_id"])]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[int, ObjectId]:
    """The ``(createTime, ObjectId)`` inside a cursor; InvalidQuery if it is not ours."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        created, oid = json.loads(raw)
        if isinstance(created, bool) or not isinstance(created, int) or not 0 <= created < 2**53:
            raise ValueError  # a time MongoDB can compare (a huge one overflowed: a 500)
        return created, ObjectId(oid)
    except (binascii.Error, ValueError, TypeError, InvalidId):
        raise InvalidQuery("cursor is not one this server gave out") from None

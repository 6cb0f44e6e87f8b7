"""MongoDB connection: the embedded engine, a MongoDB server, or mongomock for unit tests.

Whatever ``mongo.uri`` names, the application gets a ``pymongo`` ``Database``;
only this module knows which engine is underneath.
"""

import pymongo

from wxmember.config import EMBEDDED_URI, MOCK_URI
from wxmember.db import engine
from wxmember.timeparse import day_expression, day_label


def connect(mongo, server_selection_timeout_ms=5000):
    """A ``Database`` for the ``mongo`` config section (the engine started if need be)."""
    uri = mongo["uri"]
    if uri == MOCK_URI:
        return _mongomock(mongo["database"])
    if uri == EMBEDDED_URI:
        uri = engine.ensure_running(mongo["data_dir"]).uri
        engine.keep_running(mongo["data_dir"])
    client = pymongo.MongoClient(
        uri,
        serverSelectionTimeoutMS=server_selection_timeout_ms,
        tz_aware=True,
        appname="wxmember",
    )
    return client[mongo["database"]]


def _mongomock(name):
    try:
        import mongomock
    except ImportError:
        raise engine.EngineError(
            "mongomock:// needs the dev extras (pip install -e '.[dev]')"
        ) from None
    return mongomock.MongoClient(tz_aware=True)[name]


def describe(mongo):
    """Which engine serves ``mongo`` and where its data is, for start-up and ``/healthz``."""
    uri = mongo["uri"]
    if uri == MOCK_URI:
        return {"engine": "mongomock", "data_dir": None, "note": "in memory, this process only"}
    if uri == EMBEDDED_URI:
        running = engine.running(mongo["data_dir"])
        if running is None:
            return {"engine": engine.ENGINE_NAME, "data_dir": mongo["data_dir"], "pid": None}
        return running.describe()
    return {"engine": "MongoDB", "hosts": _hosts(uri)}


def _hosts(uri):
    """The hosts of a MongoDB URI, without credentials or options."""
    rest = uri.split("://", 1)[1]
    return rest.split("/", 1)[0].split("?", 1)[0].rsplit("@", 1)[-1]


def all_or_nothing(database, work):
    """Run ``work(session)`` as one multi-document transaction and return its result.

    For a change of several documents that has no single-document atomic form.
    ``work`` must only write to the database (no CRM or WeChat calls): it is run
    again from the start when the server asks for a retry (a write conflict).
    """
    with database.client.start_session() as session:
        return session.with_transaction(work)


def insert_new(collection, document, session=None):
    """Insert ``document`` under a new ``_id`` (set here by the driver), exactly once.

    For collections whose only unique index is ``_id``: a DuplicateKeyError can then
    only be the driver's retry of this very insert, which the server applied before
    the answer was lost (the embedded engine forgets its retry records when killed).
    """
    try:
        collection.insert_one(document, session=session)
    except pymongo.errors.DuplicateKeyError:
        if "_id" not in document:
            raise
    return document


def without_journal_wait(collection):
    """``collection`` for a bulk write acknowledged without waiting for the journal.

    For a page of the member sync: the cursor write that follows the page waits for
    the journal, and the journal is written in order, so the page is durable once
    the cursor has moved; a crash before that loses both and the page is applied
    again. MongoDB waits for the journal once per bulk write anyway; the embedded
    engine would once per update.
    """
    concern = {**collection.write_concern.document, "j": False}
    return collection.with_options(write_concern=pymongo.WriteConcern(**concern))


def per_day(collection, match, field):
    """``{"2026-05-29": n}``: the documents of ``match`` per Shanghai day of their epoch-ms
    ``field``, counted by the database (one aggregation)."""
    pipeline = [
        {"$match": match},
        {"$group": {"_id": day_expression(field), "n": {"$sum": 1}}},
    ]
    return {day_label(row["_id"]): row["n"] for row in collection.aggregate(pipeline)}


def ping(database):
    """Return None when MongoDB answers, else a short description of the failure."""
    try:
        database.command("ping")
    except pymongo.errors.PyMongoError as exc:
        return type(exc).__name__
    return None

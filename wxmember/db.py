"""MongoDB connection: a real server, or mongomock for the embedded default and tests.

mongomock checks and writes in separate Python steps, so two threads may both
insert the same ``_id`` or both upsert one filter. MongoDB makes each
single-document operation atomic; ``SerializedDatabase`` gives mongomock the
same guarantee by running every collection call under one lock.
"""

import functools
import threading

import pymongo

EMBEDDED_SCHEME = "mongomock://"


def connect(uri, database, server_selection_timeout_ms=5000):
    """Return a pymongo-compatible ``Database`` for ``uri``."""
    if uri.startswith(EMBEDDED_SCHEME):
        import mongomock

        return SerializedDatabase(mongomock.MongoClient()[database])
    client = pymongo.MongoClient(
        uri,
        serverSelectionTimeoutMS=server_selection_timeout_ms,
        tz_aware=True,
        appname="wxmember",
    )
    return client[database]


class SerializedDatabase:
    """A mongomock database whose collections run one operation at a time."""

    def __init__(self, database):
        self._database = database
        self._lock = threading.RLock()
        self._collections = {}

    def __getitem__(self, name):
        if name not in self._collections:
            self._collections[name] = SerializedCollection(self._database[name], self._lock)
        return self._collections[name]

    def __getattr__(self, name):
        return getattr(self._database, name)


class SerializedCollection:
    """Wraps every method of a mongomock collection in the database's lock."""

    def __init__(self, collection, lock):
        self._collection = collection
        self._lock = lock

    def __getattr__(self, name):
        attribute = getattr(self._collection, name)
        if not callable(attribute):
            return attribute

        @functools.wraps(attribute)
        def locked(*args, **kwargs):
            with self._lock:
                return attribute(*args, **kwargs)

        return locked


def ping(database):
    """Return None when MongoDB answers, else a short description of the failure."""
    try:
        database.command("ping")
    except pymongo.errors.PyMongoError as exc:
        return type(exc).__name__
    return None

"""Counts MongoDB operations and the time spent in them, for the benchmarks."""

import time

MONGO_METHODS = {
    "insert_one",
    "insert_many",
    "update_one",
    "update_many",
    "find_one",
    "find",
    "find_one_and_update",
    "find_one_and_delete",
    "replace_one",
    "delete_one",
    "delete_many",
    "count_documents",
    "bulk_write",
}


class MeteredDatabase:
    """Wraps a database; each collection call adds to ``operations`` and ``seconds``."""

    def __init__(self, database):
        self.database = database
        self.operations = 0
        self.seconds = 0.0

    def reset(self):
        self.operations, self.seconds = 0, 0.0

    def __getitem__(self, name):
        return MeteredCollection(self.database[name], self)

    def __getattr__(self, name):
        return getattr(self.database, name)


class MeteredCollection:
    """One collection of a ``MeteredDatabase``."""

    def __init__(self, collection, meter):
        self.collection = collection
        self.meter = meter

    def __getattr__(self, name):
        attribute = getattr(self.collection, name)
        if name == "with_options":  # the same collection with other options: metered too
            return lambda *a, **k: MeteredCollection(attribute(*a, **k), self.meter)
        if name not in MONGO_METHODS:
            return attribute

        def metered(*args, **kwargs):
            started = time.perf_counter()
            try:
                result = attribute(*args, **kwargs)
                return MeteredCursor(result, self.meter) if name == "find" else result
            finally:
                self.meter.seconds += time.perf_counter() - started
                self.meter.operations += 1

        return metered


class MeteredCursor:
    """A ``find`` cursor whose iteration time counts too (a cursor fetches lazily)."""

    def __init__(self, cursor, meter):
        self.cursor, self.meter = cursor, meter

    def __getattr__(self, name):
        attribute = getattr(self.cursor, name)
        if name in ("sort", "limit", "skip"):
            return lambda *a, **k: MeteredCursor(attribute(*a, **k), self.meter)
        return attribute

    def __iter__(self):
        started = time.perf_counter()
        try:
            return iter(list(self.cursor))
        finally:
            self.meter.seconds += time.perf_counter() - started

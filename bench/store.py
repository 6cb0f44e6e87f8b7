"""Where a benchmark's data lives, and the engine and data size printed beside each figure.

By default the embedded engine (SecantusDB, ``wxmember/db/engine.py``) on a fresh
data directory under the temp dir, stopped and removed afterwards; ``--data-dir``
uses (and keeps) a directory of your choice; ``--mongo-uri`` a MongoDB server;
``--db mongomock`` the in-process fake, offered by the single-threaded benchmarks
(it is not atomic across threads). Each run writes into a database of its own,
never emptied while the run lasts, and dropped at the end unless ``--keep``.
"""

import json
import os
import shutil
import tempfile
import time
import uuid
from pathlib import Path

from wxmember import db
from wxmember.config import EMBEDDED_URI, MOCK_URI
from wxmember.db import engine


def add_arguments(parser, mongomock=False):
    """``--data-dir``, ``--mongo-uri``, ``--keep`` (and ``--db mongomock`` when offered)."""
    group = parser.add_argument_group("database (default: the embedded engine, fresh data)")
    group.add_argument("--data-dir", help="the embedded engine's data directory (kept)")
    group.add_argument("--mongo-uri", help="a MongoDB server instead of the embedded engine")
    if mongomock:
        group.add_argument("--db", choices=("engine", "mongomock"), default="engine")
    group.add_argument("--keep", action="store_true", help="keep the run's database afterwards")


class BenchStore:
    """The database of one benchmark run; a context manager that cleans up after itself."""

    def __init__(self, args):
        self.keep = args.keep
        self.temporary = None  # a data directory made for this run
        self.started = False  # True when this run started the engine
        name = f"wxmember_bench_{uuid.uuid4().hex[:8]}"
        if getattr(args, "db", "engine") == "mongomock":
            if args.mongo_uri or args.data_dir:
                raise SystemExit("--db mongomock takes neither --mongo-uri nor --data-dir")
            self.mongo = {"uri": MOCK_URI, "database": name}
        elif args.mongo_uri:
            self.mongo = {"uri": args.mongo_uri, "database": name}
        else:
            data_dir = args.data_dir
            if data_dir is None:
                self.temporary = data_dir = tempfile.mkdtemp(prefix="wxmember-bench-")
            data_dir = str(Path(data_dir).resolve())
            self.started = engine.running(data_dir) is None
            engine.ensure_running(data_dir)
            self.mongo = {"uri": EMBEDDED_URI, "data_dir": data_dir, "database": name}
        self.database = db.connect(self.mongo)
        self.engine = self._engine_name()

    def _engine_name(self):
        uri = self.mongo["uri"]
        if uri == MOCK_URI:
            import mongomock

            return f"mongomock {mongomock.__version__} (in this process, in memory)"
        version = self.database.client.server_info().get("version", "?")
        if uri == EMBEDDED_URI:
            where = "fresh data dir" if self.temporary else "data dir"
            return (
                f"{engine.ENGINE_NAME} {engine.VERSION} (embedded, own process, "
                f"wire version {version}; {where} {self.mongo['data_dir']})"
            )
        return f"MongoDB {version} at {db.describe(self.mongo)['hosts']}"

    def cpu_seconds(self):
        """``(this process, the engine's server)`` CPU seconds so far; the engine's is None
        unless it is the embedded one (mongomock's time is this process's)."""
        engine_cpu = None
        if self.mongo["uri"] == EMBEDDED_URI:
            info = json.loads((Path(self.mongo["data_dir"]) / "engine.json").read_text())
            fields = Path(f"/proc/{info['server_pid']}/stat").read_text().rsplit(")", 1)[1].split()
            engine_cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return time.process_time(), engine_cpu

    def counts(self, collections):
        """Documents per collection, as ``{short name: n}`` (read outside any meter)."""
        return {
            short: self.database[name].estimated_document_count()
            for short, name in collections.items()
        }

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        """Drop the run's database unless kept; stop the engine this run started."""
        uri = self.mongo["uri"]
        if not self.keep and uri != MOCK_URI:
            self.database.client.drop_database(self.mongo["database"])
        if uri != MOCK_URI:
            self.database.client.close()
        if uri == EMBEDDED_URI and self.started:
            engine.stop(self.mongo["data_dir"])
        if self.temporary and not self.keep:
            shutil.rmtree(self.temporary, ignore_errors=True)
        elif self.temporary:
            print(f"kept: {self.mongo['data_dir']}, database {self.mongo['database']}")


def size_text(counts):
    """``customers 1,200 · logs 2,400``: the data size printed beside a figure."""
    return " · ".join(f"{name} {n:,}" for name, n in counts.items())

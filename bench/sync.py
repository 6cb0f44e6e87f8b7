"""Benchmark of the member sync: batched against one change at a time, in the same run.

The CRM simulator (in-process, over HTTP) has as many members as the largest
size, all bound on our side. For each size N, N of them change once and the
member sync applies the changes batched (pages of 100 changes: one bulk write,
one cursor write per page); then N new changes one-by-one (a page of one change:
one update and one cursor write per change); then N more batched again under
tracemalloc, for the peak memory the sync allocates (flat in N means paged).
The database is never emptied: each pass applies what the CRM changed after the
previous one.

    python bench/sync.py [--sizes 2000,20000]
                         [--data-dir DIR | --mongo-uri mongodb://… | --db mongomock]
"""

import argparse
import logging
import os
import selectors
import sys
import time
import tracemalloc
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import werkzeug.serving  # noqa: E402

from bench.metering import MeteredDatabase  # noqa: E402
from bench.store import BenchStore, add_arguments, size_text  # noqa: E402
from jobs.runner import run_job  # noqa: E402
from wxmember.composition import bootstrap  # noqa: E402
from wxmember.config import DEFAULTS, validate  # noqa: E402
from wxmember.crm.sim_state import FIRST_MEMBER_ID  # noqa: E402
from wxmember.db.collections import CUSTOMERS, JOB_RUNS  # noqa: E402

COLLECTIONS = {"customers": CUSTOMERS, "job runs": JOB_RUNS}


class _NoDrain(selectors.DefaultSelector):
    """A selector that never reports the closed connection as readable."""

    def select(self, timeout=None):
        return []


def quiet_simulator_server():
    """Stop werkzeug's dev server (the CRM simulator's) draining each closed connection.

    After every response it reads what the client may still send into a fresh
    10 MB buffer: in this process, so tracemalloc would report that buffer as the
    sync's peak. Nothing is sent after our requests, so nothing is lost.
    """
    werkzeug.serving.selectors = SimpleNamespace(
        DefaultSelector=_NoDrain, EVENT_READ=selectors.EVENT_READ
    )


class CountingCRM:
    """Counts the calls made to the CRM client it wraps."""

    def __init__(self, crm):
        self.crm, self.calls = crm, 0

    def __getattr__(self, name):
        attribute = getattr(self.crm, name)
        if not callable(attribute):
            return attribute

        def counted(*args, **kwargs):
            self.calls += 1
            return attribute(*args, **kwargs)

        return counted


def build(store, size):
    """Services over the run's database with a ``size``-member CRM simulator, all bound here."""
    config = {section: dict(values) for section, values in DEFAULTS.items()}
    config["wechat"]["token"] = "bench"
    config["crm"]["simulator_members"] = size
    config["mongo"] = dict(store.mongo)
    config["console"]["session_secret"] = "bench"
    config["scheduler"]["enabled"] = False
    validate(config)
    meter = MeteredDatabase(store.database)
    services = bootstrap(config, database=meter)
    services.crm = CountingCRM(services.crm)
    bind_everyone(store.database, size)
    return services, meter


def bind_everyone(database, size):
    """N bound customers, as if every CRM member had bound before (written in bulk)."""
    customers = database[CUSTOMERS]
    for start in range(0, size, 1000):
        customers.insert_many(
            [
                {
                    "wechatid": f"oBench{n:07d}",
                    "isRegister": True,
                    "mobile": f"1390{n:07d}",
                    "HaiLanMemberInfo": {
                        "memberID": FIRST_MEMBER_ID + n,
                        "action": "bind",
                        "type": 1,
                        "memberCardNumber": f"W{FIRST_MEMBER_ID + n:010d}",
                    },
                }
                for n in range(start, min(size, start + 1000))
            ]
        )


def sync(services, meter, size, mode):
    """N new CRM changes, then one member sync run over them; its figures."""
    services.crm_simulator.app.extensions["crm_state"].touch_members(size)
    services.config["scheduler"]["batch_size"] = 1 if mode == "one-by-one" else 100
    meter.reset()
    services.crm.calls = 0
    traced = mode == "memory"
    if traced:
        tracemalloc.start()
    started = time.perf_counter()
    run = run_job(services, "members", trigger="bench", batched=mode != "one-by-one")
    elapsed = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1] if traced else None
    tracemalloc.stop()
    assert run["state"] == "ok", run["error"]
    assert run["counts"]["members"] == size, run["counts"]
    return {
        "rate": size / elapsed,
        "seconds": elapsed,
        "mongo_ops": meter.operations,
        "mongo_s": meter.seconds,
        "crm_calls": services.crm.calls,
        "peak_kib": peak / 1024 if traced else None,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="2000", help="comma-separated member counts")
    add_arguments(parser, mongomock=True)
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    sys.stdout.reconfigure(line_buffering=True)
    quiet_simulator_server()
    with BenchStore(args) as store:
        print(f"database: {store.engine}")
        print(f"machine: {os.cpu_count()} cores; CRM: the simulator, in-process over HTTP\n")
        print(
            f"{'members':>8} {'mode':<11}{'synced/s':>10}{'seconds':>9}{'db ops':>9}"
            f"{'db s':>8}{'crm calls':>11}{'peak KiB':>10}  data size after"
        )
        sizes = [int(s) for s in args.sizes.split(",")]
        services, meter = build(store, max(sizes))
        try:
            for size in sizes:
                rows = {}
                for mode in ("batched", "one-by-one", "memory"):
                    rows[mode] = row = sync(services, meter, size, mode)
                    peak = f"{row['peak_kib']:>10.0f}" if row["peak_kib"] else f"{'':>10}"
                    print(
                        f"{size:>8} {mode:<11}{row['rate']:>10.0f}{row['seconds']:>9.2f}"
                        f"{row['mongo_ops']:>9}{row['mongo_s']:>8.2f}{row['crm_calls']:>11}"
                        f"{peak}  {size_text(store.counts(COLLECTIONS))}",
                    )
                ratio = rows["batched"]["rate"] / rows["one-by-one"]["rate"]
                print(f"{'':>8} batched is {ratio:.1f}x one-by-one\n")
        finally:
            services.close()
        print(
            "memory: batched again under tracemalloc (slower): the peak the sync allocated.\n"
            "db ops: database operations (a bulk write counts one); db s: time inside them."
        )


if __name__ == "__main__":
    main()

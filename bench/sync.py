"""Benchmark of the member sync: batched against one change at a time, in the same run.

For each size N: the CRM simulator gets N members, all bound on our side, and one
change each; the member sync then applies them, batched (pages of 100 changes,
one bulk write and one cursor write per page) and one-by-one (a page of one
change, one update and one cursor write per change). Figures: members synced
per second, MongoDB operations and CRM calls, time inside MongoDB, and the peak
memory the sync itself allocated (tracemalloc; flat in N means paged).

mongomock scans every document on each lookup, so its time grows with N for
both modes alike; give ``--mongo-uri`` to measure on a real MongoDB, where
20k and more make sense.

    python bench/sync.py [--sizes 2000] [--mongo-uri mongodb://…]
"""

import argparse
import logging
import sys
import time
import tracemalloc
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pymongo  # noqa: E402

from bench.metering import MeteredDatabase  # noqa: E402
from jobs.cursor import COLLECTION as CURSOR_COLLECTION  # noqa: E402
from jobs.runner import run_job  # noqa: E402
from wxmember import db  # noqa: E402
from wxmember.bootstrap import bootstrap  # noqa: E402
from wxmember.config import DEFAULTS, validate  # noqa: E402
from wxmember.crm.sim_state import FIRST_MEMBER_ID  # noqa: E402


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


def build(size, mongo_uri):
    config = {section: dict(values) for section, values in DEFAULTS.items()}
    config["wechat"]["token"] = "bench"
    config["crm"]["simulator_members"] = size
    config["mongo"].update(uri=mongo_uri, database=f"wxmember_bench_{uuid.uuid4().hex[:8]}")
    config["console"]["session_secret"] = "bench"
    validate(config)
    meter = MeteredDatabase(db.connect(config["mongo"]["uri"], config["mongo"]["database"]))
    services = bootstrap(config, database=meter)
    services.crm = CountingCRM(services.crm)
    bind_everyone(services, size)
    services.crm_simulator.app.extensions["crm_state"].touch_members(size)
    return services, meter


def bind_everyone(services, size):
    """N bound customers, as if every CRM member had bound before."""
    customers = services.database.database["welab/customers"]
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


def measure(services, meter, batched):
    services.database.database[CURSOR_COLLECTION].delete_many({})
    services.config["scheduler"]["batch_size"] = 100 if batched else 1
    meter.reset()
    services.crm.calls = 0
    tracemalloc.start()
    started = time.perf_counter()
    run = run_job(services, "members", trigger="bench", batched=batched)
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert run["state"] == "ok", run["error"]
    return {
        "synced": run["counts"]["members"],
        "rate": run["counts"]["members"] / elapsed,
        "seconds": elapsed,
        "mongo_ops": meter.operations,
        "mongo_s": meter.seconds,
        "crm_calls": services.crm.calls,
        "peak_kib": peak / 1024,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="2000", help="comma-separated member counts")
    parser.add_argument("--mongo-uri", default="mongomock://")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    sys.stdout.reconfigure(line_buffering=True)
    print(f"database: {'mongomock (in memory)' if 'mongomock' in args.mongo_uri else 'MongoDB'}\n")
    print(
        f"{'members':>8} {'mode':<11}{'synced/s':>10}{'seconds':>9}{'mongo ops':>11}"
        f"{'mongo s':>9}{'crm calls':>11}{'peak KiB':>10}"
    )
    for size in (int(s) for s in args.sizes.split(",")):
        services, meter = build(size, args.mongo_uri)
        try:
            rows = {
                mode: measure(services, meter, mode == "batched")
                for mode in ("batched", "one-by-one")
            }
        finally:
            if not args.mongo_uri.startswith("mongomock"):
                pymongo.MongoClient(args.mongo_uri).drop_database(
                    services.config["mongo"]["database"]
                )
            services.close()
        for mode, row in rows.items():
            print(
                f"{size:>8} {mode:<11}{row['rate']:>10.0f}{row['seconds']:>9.2f}"
                f"{row['mongo_ops']:>11}{row['mongo_s']:>9.2f}{row['crm_calls']:>11}"
                f"{row['peak_kib']:>10.0f}"
            )
        ratio = rows["batched"]["rate"] / rows["one-by-one"]["rate"]
        outside = [(r["seconds"] - r["mongo_s"]) for r in rows.values()]
        print(
            f"{'':>8} batched is {ratio:.1f}x one-by-one overall; "
            f"{outside[1] / outside[0]:.1f}x outside MongoDB calls\n"
        )


if __name__ == "__main__":
    main()

"""Benchmark of the ledgers: writes per second for one hot member and for many
members (sequential and with 8 threads), and the cost of ``wxmember audit`` per
10k rows.

mongomock scans every document on each lookup, including the ``_id`` lookup that
recognises a replayed key, so each round starts from an empty database and the
time inside mongomock is printed apart; ``--mongo-uri`` measures on MongoDB.

    python bench/ledger.py [--writes 2000] [--audit-rows 10000] [--mongo-uri …]
"""

import argparse
import sys
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pymongo  # noqa: E402

from bench.metering import MeteredDatabase  # noqa: E402
from wxmember import db  # noqa: E402
from wxmember.ledger import ACCOUNTS, Entry, Ledger  # noqa: E402

ENTRY = Entry("BENCH", "积分调整", "基准测试")


def fresh_ledger(mongo_uri):
    name = f"wxmember_bench_{uuid.uuid4().hex[:8]}"
    meter = MeteredDatabase(db.connect(mongo_uri, name))
    ledger = Ledger(meter)
    ledger.ensure_indexes()
    return ledger, meter, name


def drop(mongo_uri, name):
    if not mongo_uri.startswith("mongomock"):
        pymongo.MongoClient(mongo_uri).drop_database(name)


def writes(mongo_uri, count, members, threads):
    """Post ``count`` +1 point writes spread over ``members`` members; figures."""
    ledger, meter, name = fresh_ledger(mongo_uri)
    meter.reset()

    def worker(offset):
        for n in range(offset, count, threads):
            ledger.post("points", 1 + n % members, 1, ENTRY, f"w{n}")

    started = time.perf_counter()
    pool = [threading.Thread(target=worker, args=(t,)) for t in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    elapsed = time.perf_counter() - started
    figures = count / elapsed, meter.operations / count, meter.seconds / count * 1000
    assert ledger.audit() == [], "the ledger does not add up"
    drop(mongo_uri, name)
    return figures


def audit_cost(mongo_uri, rows, members=100):
    """Seconds ``audit`` takes over ``rows`` rows (written in bulk, consistent)."""
    ledger, meter, name = fresh_ledger(mongo_uri)
    database = meter.database
    per_member = rows // members
    database["member/integral"].insert_many(
        [
            {"_id": f"m{m}-{s}", "MemberID": m, "Integral": 1, "Balance": s, "seq": s}
            for m in range(members)
            for s in range(1, per_member + 1)
        ]
    )
    database[ACCOUNTS].insert_many(
        [{"_id": m, "points": {"balance": per_member, "seq": per_member}} for m in range(members)]
    )
    started = time.perf_counter()
    differences = ledger.audit()
    elapsed = time.perf_counter() - started
    assert differences == []
    drop(mongo_uri, name)
    return elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writes", type=int, default=2000)
    parser.add_argument("--audit-rows", type=int, default=10000)
    parser.add_argument("--mongo-uri", default="mongomock://")
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)
    kind = "mongomock (in memory)" if args.mongo_uri.startswith("mongomock") else "MongoDB"
    print(f"database: {kind}; {args.writes} writes per scenario, each on an empty database\n")
    print(f"{'scenario':<28}{'writes/s':>10}{'mongo ops/write':>17}{'ms in mongo/write':>19}")
    for label, members, threads in [
        ("one hot member, 1 thread", 1, 1),
        ("one hot member, 8 threads", 1, 8),
        ("1000 members, 1 thread", 1000, 1),
        ("1000 members, 8 threads", 1000, 8),
    ]:
        rate, ops, mongo_ms = writes(args.mongo_uri, args.writes, members, threads)
        print(f"{label:<28}{rate:>10.0f}{ops:>17.2f}{mongo_ms:>19.2f}")
    seconds = audit_cost(args.mongo_uri, args.audit_rows)
    print("\nms in mongo/write: time inside mongomock calls (8 threads: waits for its lock too)")
    print(
        f"audit: {seconds:.2f} s for {args.audit_rows} rows over 100 members "
        f"= {seconds * 10000 / args.audit_rows:.2f} s per 10k rows"
    )


if __name__ == "__main__":
    main()

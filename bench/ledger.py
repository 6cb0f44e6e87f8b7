"""Benchmark of the ledgers: writes per second for one hot member and for many
members (sequential and with 8 threads), and the cost of ``wxmember audit`` per
10k rows.

Every scenario writes into the same database, which is never emptied (each its
own members), so each figure is printed with the accounts and rows there were;
the audit then recomputes every balance written so far, plus ``--audit-rows``
consistent rows written in bulk, and must find no difference.

    python bench/ledger.py [--writes 2000] [--audit-rows 10000]
                           [--data-dir DIR | --mongo-uri mongodb://…]
"""

import argparse
import os
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.metering import MeteredDatabase  # noqa: E402
from bench.store import BenchStore, add_arguments, size_text  # noqa: E402
from wxmember.db.collections import MEMBER_ACCOUNTS as ACCOUNTS  # noqa: E402
from wxmember.db.collections import POINTS_ROWS as POINTS  # noqa: E402
from wxmember.members.ledger import Entry, Ledger  # noqa: E402

ENTRY = Entry("BENCH", "积分调整", "基准测试")
COLLECTIONS = {"accounts": ACCOUNTS, "point rows": POINTS}
SCENARIOS = [  # label, members, threads
    ("one hot member, 1 thread", 1, 1),
    ("one hot member, 8 threads", 1, 8),
    ("1000 members, 1 thread", 1000, 1),
    ("1000 members, 8 threads", 1000, 8),
]


def writes(ledger, meter, first_member, count, members, threads):
    """Post ``count`` +1 point writes spread over ``members`` members; figures."""
    meter.reset()

    def worker(offset):
        for n in range(offset, count, threads):
            member = first_member + n % members
            ledger.post("points", member, 1, ENTRY, f"w{first_member}-{n}")

    started = time.perf_counter()
    pool = [threading.Thread(target=worker, args=(t,)) for t in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    elapsed = time.perf_counter() - started
    return count / elapsed, meter.operations / count, meter.seconds / count * 1000


def add_audit_rows(database, rows, first_member, members=100):
    """``rows`` consistent point rows over ``members`` members, written in bulk."""
    per_member = rows // members
    for m in range(first_member, first_member + members):
        database[POINTS].insert_many(
            [
                {"_id": f"a{m}-{s}", "MemberID": m, "Integral": 1, "Balance": s, "seq": s}
                for s in range(1, per_member + 1)
            ]
        )
    database[ACCOUNTS].insert_many(
        [
            {"_id": m, "points": {"balance": per_member, "seq": per_member}}
            for m in range(first_member, first_member + members)
        ]
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writes", type=int, default=2000)
    parser.add_argument("--audit-rows", type=int, default=10000)
    add_arguments(parser)
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)
    with BenchStore(args) as store:
        meter = MeteredDatabase(store.database)
        ledger = Ledger(meter)
        ledger.ensure_indexes()
        print(f"database: {store.engine}")
        print(f"machine: {os.cpu_count()} cores; {args.writes} writes per scenario\n")
        print(
            f"{'scenario':<28}{'writes/s':>10}{'db ops/write':>14}{'db ms/write':>13}"
            "  data size before"
        )
        for number, (label, members, threads) in enumerate(SCENARIOS):
            before = size_text(store.counts(COLLECTIONS))
            first_member = 1_000_000 * (number + 1)
            rate, ops, db_ms = writes(ledger, meter, first_member, args.writes, members, threads)
            print(f"{label:<28}{rate:>10.0f}{ops:>14.2f}{db_ms:>13.2f}  {before}")
        print("\ndb ms/write: time inside database calls (8 threads: summed over threads)\n")

        add_audit_rows(store.database, args.audit_rows, first_member=9_000_000)
        counts = store.counts(COLLECTIONS)
        started = time.perf_counter()
        differences = ledger.audit()
        seconds = time.perf_counter() - started
        assert differences == [], f"the ledger does not add up: {differences[:3]}"
        rows = counts["point rows"]
        print(
            f"audit: {seconds:.2f} s over {size_text(counts)} "
            f"= {seconds * 10000 / rows:.2f} s per 10k rows; no difference"
        )


if __name__ == "__main__":
    main()

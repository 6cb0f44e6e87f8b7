"""Benchmark of the shake draw: draws per second and p50/p99 latency with 32
members shaking at once, and MongoDB operations per draw.

The full path of ``ShakeDraws.shake``: the draw claim, the cycle limit, the
points ledger, the pick, the stock, the coupon issued by the CRM simulator over
HTTP, the customer's ``shake`` record, the log and the feed. The figures come
with the data size they were measured at (draws, customers, logs).

    python bench/shake.py [--members 32] [--shakes 20] [--chance 30]
                          [--data-dir DIR | --mongo-uri mongodb://…]
"""

import argparse
import logging
import os
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.metering import MeteredDatabase  # noqa: E402
from bench.store import BenchStore, add_arguments, size_text  # noqa: E402
from jobs.runner import run_job  # noqa: E402
from wxmember.composition import bootstrap  # noqa: E402
from wxmember.config import DEFAULTS, validate  # noqa: E402
from wxmember.db.collections import CUSTOMERS, FEEDS, LOGS, SHAKE_DRAWS  # noqa: E402
from wxmember.members.ledger import Entry  # noqa: E402
from wxmember.shake.draws import ShakeRefused  # noqa: E402

PROMOTION = "CQL201404010004"
COLLECTIONS = {
    "draws": SHAKE_DRAWS,
    "customers": CUSTOMERS,
    "logs": LOGS,
    "feeds": FEEDS,
}


def build(store, members):
    config = {section: dict(values) for section, values in DEFAULTS.items()}
    config["wechat"]["token"] = "bench"
    config["mongo"] = dict(store.mongo)
    config["console"]["session_secret"] = "bench"
    config["scheduler"]["enabled"] = False
    validate(config)
    meter = MeteredDatabase(store.database)
    services = bootstrap(config, database=meter)
    run_job(services, "activities")
    customers = services.records.customers
    for n in range(members):
        openid, member_id = f"oShaker{n:03d}", 16426780 + n
        customers.bind(openid, member_id, f"W{member_id:010d}", 1, f"1380000{n:04d}")
        services.members.ledger.post("points", member_id, 100_000, Entry("B", "t", "s"), f"b{n}")
    return services, meter


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=32)
    parser.add_argument("--shakes", type=int, default=20, help="shakes per member")
    parser.add_argument("--chance", type=float, default=30, help="win chance, percent")
    add_arguments(parser)
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    with BenchStore(args) as store:
        run(store, args)


def run(store, args):
    services, meter = build(store, args.members)
    now = int(time.time() * 1000)
    aid = services.shake_activities.create(
        {
            "name": "bench",
            "start": now - 1000,
            "end": now + 3_600_000,
            "points": 1,
            "prizes": [{"promotion_code": PROMOTION, "lottery_chance": args.chance, "stock": 1500}],
        }
    )["aid"]
    latencies, wins, refusals = [], [], []
    barrier = threading.Barrier(args.members)

    def member(n):
        barrier.wait()
        for s in range(args.shakes):
            started = time.perf_counter()
            try:
                result = services.shakes.shake(f"oShaker{n:03d}", aid, nonce=f"{n}-{s}")
                wins.append(result["win"])
            except ShakeRefused as refused:
                refusals.append(refused.code)
            latencies.append(time.perf_counter() - started)

    meter.reset()
    started = time.perf_counter()
    threads = [threading.Thread(target=member, args=(n,)) for n in range(args.members)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    services.close()

    draws = len(latencies)
    ordered = sorted(latencies)
    p99 = ordered[min(draws - 1, int(draws * 0.99))]
    print(f"database: {store.engine}")
    print(
        f"machine: {os.cpu_count()} cores; {args.members} members shaking at once,"
        f" {args.shakes} shakes each, win chance {args.chance}%\n"
    )
    print(f"draws/s            {draws / elapsed:10.0f}")
    print(f"p50 latency ms     {statistics.median(ordered) * 1000:10.2f}")
    print(f"p99 latency ms     {p99 * 1000:10.2f}")
    print(f"wins               {sum(wins):10d}   refused {len(refusals)}")
    print(f"db ops / draw      {meter.operations / draws:10.2f}")
    print(f"db ms / draw       {meter.seconds / draws * 1000:10.2f}   (summed over threads)")
    print(f"data size after    {size_text(store.counts(COLLECTIONS))}")


if __name__ == "__main__":
    main()

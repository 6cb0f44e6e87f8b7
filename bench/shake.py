"""Benchmark of the shake draw: draws per second and p50/p99 latency with 32
members shaking at once, and MongoDB operations per draw.

The full path of ``ShakeDraws.shake``: the draw claim, the cycle limit, the
points ledger, the pick, the stock, the coupon issued by the CRM simulator over
HTTP, the customer's ``shake`` record, the log and the feed. mongomock serialises
every operation behind one lock and scans every document on each lookup; its
time is printed apart. ``--mongo-uri`` measures on a real MongoDB.

    python bench/shake.py [--members 32] [--shakes 20] [--chance 30]
"""

import argparse
import logging
import statistics
import sys
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.metering import MeteredDatabase  # noqa: E402
from jobs.runner import run_job  # noqa: E402
from wxmember import db  # noqa: E402
from wxmember.bootstrap import bootstrap  # noqa: E402
from wxmember.config import DEFAULTS, validate  # noqa: E402
from wxmember.ledger import Entry  # noqa: E402
from wxmember.shake import ShakeRefused  # noqa: E402

PROMOTION = "CQL201404010004"


def build(mongo_uri, members):
    config = {section: dict(values) for section, values in DEFAULTS.items()}
    config["wechat"]["token"] = "bench"
    config["mongo"].update(uri=mongo_uri, database=f"wxmember_bench_{uuid.uuid4().hex[:8]}")
    config["console"]["session_secret"] = "bench"
    validate(config)
    meter = MeteredDatabase(db.connect(config["mongo"]["uri"], config["mongo"]["database"]))
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
    parser.add_argument("--mongo-uri", default="mongomock://")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    services, meter = build(args.mongo_uri, args.members)
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
    print(
        f"database: {'mongomock (in memory)' if 'mongomock' in args.mongo_uri else 'MongoDB'};"
        f" {args.members} members shaking at once, {args.shakes} shakes each,"
        f" win chance {args.chance}%\n"
    )
    print(f"draws/s            {draws / elapsed:10.0f}")
    print(f"p50 latency ms     {statistics.median(ordered) * 1000:10.2f}")
    print(f"p99 latency ms     {p99 * 1000:10.2f}")
    print(f"wins               {sum(wins):10d}   refused {len(refusals)}")
    print(f"mongo ops / draw   {meter.operations / draws:10.2f}")
    print(
        f"mongo ms / draw    {meter.seconds / draws * 1000:10.2f}   (summed over threads, "
        "waits for mongomock's lock included)"
    )


if __name__ == "__main__":
    main()

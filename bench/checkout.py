"""Benchmark of the checkout quote (seed 003 §七): quotes per second at two data sizes, ours
against a naive quote that reads each coupon, its definition, the settings and the grade
again for every step, and through the staff API.

Each member holds a 满减, a 折扣 and a 代金 coupon and points, at a grade with a discount;
every quote uses the three coupons and points (four steps over two ranks). The data grows
between the sizes (the database is never emptied): the members, their coupons, accounts
and grades are written in bulk, and each figure is printed with the counts it ran at.

    python bench/checkout.py [--sizes 1000,10000] [--quotes 500] [--threads 4]
                             [--data-dir DIR | --mongo-uri mongodb://…]
"""

import argparse
import logging
import os
import random
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.metering import MeteredDatabase  # noqa: E402
from bench.store import BenchStore, add_arguments, size_text  # noqa: E402
from wxmember.composition import bootstrap, create_app  # noqa: E402
from wxmember.config import DEFAULTS, validate  # noqa: E402
from wxmember.db.collections import (  # noqa: E402
    COUPONS,
    MEMBER_ACCOUNTS,
    MEMBER_COUPONS,
    MEMBER_DATA,
)
from wxmember.members.checkout import parse_order  # noqa: E402
from wxmember.members.wallet import RULES  # noqa: E402

TOKEN = "bench-token"
FIRST_MEMBER = 20_000_000
COLLECTIONS = {"coupons held": MEMBER_COUPONS, "accounts": MEMBER_ACCOUNTS, "grades": MEMBER_DATA}
KINDS = [
    {"name": "满100减20", "kind": "minus", "threshold": 100, "value": 20},
    {"name": "九五折", "kind": "discount", "threshold": 0, "value": 0.95},
    {"name": "5元代金券", "kind": "cash", "threshold": 0, "value": 5},
]


def build(store):
    config = {section: dict(values) for section, values in DEFAULTS.items()}
    config["wechat"]["token"] = "bench"
    config["mongo"] = dict(store.mongo)
    config["console"].update(session_secret="bench", api_token=TOKEN)
    config["scheduler"]["enabled"] = False
    validate(config)
    meter = MeteredDatabase(store.database)
    services = bootstrap(config, database=meter)
    members = services.members
    members.grades.save({"level": 0, "name": "银卡", "discount": 0.9})
    definitions = [
        members.coupons.create({**kind, "stackGrade": True, "stackPoints": True, "end": None})
        for kind in KINDS
    ]
    return services, meter, definitions


def grow(store, definitions, start, stop, now):
    """Members ``start``…``stop`` with points, a grade and one coupon of each kind, in bulk."""
    database = store.database
    ids = range(FIRST_MEMBER + start, FIRST_MEMBER + stop)
    database[MEMBER_ACCOUNTS].insert_many(
        [{"_id": m, "points": {"balance": 100_000, "seq": 0, "journal": []}} for m in ids]
    )
    database[MEMBER_DATA].insert_many(
        [{"_id": m, "GradeID": 0, "GradeDate": now, "Purview": [], "CreateDate": now} for m in ids]
    )
    held = [
        {
            "_id": f"CP{m}{k}",
            "couponId": coupon["_id"],
            "memberID": m,
            **{field: coupon[field] for field in RULES},
            "validFrom": now,
            "validUntil": None,
            "status": "valid",
            "source": "staff",
            "issueKey": f"bench:{m}:{k}",
            "issuedAt": now,
            "usedBy": None,
            "usedAt": None,
        }
        for m in ids
        for k, coupon in enumerate(definitions)
    ]
    for chunk in range(0, len(held), 5000):
        database[MEMBER_COUPONS].insert_many(held[chunk : chunk + 5000])
    database[COUPONS].update_many({}, {"$inc": {"issued": stop - start}})


def body_of(member_id):
    return {
        "memberID": member_id,
        "amount": 300,
        "coupons": [f"CP{member_id}{k}" for k in range(len(KINDS))],
        "points": 2000,
    }


def naive_quote(services, body):
    """The same quote, reading again for every step what the step needs: the settings, the
    grade, and each coupon with its definition."""
    quoting = services.members.checkout.quoting
    order = parse_order(body)
    steps = 1 + len(order.coupons) + (1 if order.points else 0)
    for _ in range(steps):
        quoting.settings.get()
        quoting.grades.get(quoting.grades.member_if_known(order.member_id)["GradeID"])
        quoting.points.balance(order.member_id)
        for number in order.coupons:
            coupon = quoting.wallet.held([number])[number]
            services.members.coupons.get(coupon["couponId"])
    return quoting.quote_order(order)


def measure(quote, members, count, threads=1):
    """Quotes per second of ``quote(body)`` over random members, in ``threads`` threads."""
    rng = random.Random(7)
    bodies = [body_of(rng.choice(members)) for _ in range(count)]
    totals = []

    def worker(offset):
        for n in range(offset, count, threads):
            totals.append(quote(bodies[n]))

    started = time.perf_counter()
    pool = [threading.Thread(target=worker, args=(t,)) for t in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return count / (time.perf_counter() - started), totals


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000", help="members (3 coupons each)")
    parser.add_argument("--quotes", type=int, default=500, help="quotes per figure")
    parser.add_argument("--threads", type=int, default=4)
    add_arguments(parser)
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    sys.stdout.reconfigure(line_buffering=True)
    with BenchStore(args) as store:
        run(store, args)


def run(store, args):
    services, meter, definitions = build(store)
    client = create_app(services=services).test_client()
    headers = {"Authorization": f"Bearer {TOKEN}"}

    def over_api(body):
        answer = client.post("/api/checkout/quote", json=body, headers=headers)
        assert answer.status_code == 200, answer.json
        return answer.json["total"]

    def ours(body):
        return services.members.checkout.quote(body).total

    def naive(body):
        return naive_quote(services, body).total

    print(f"database: {store.engine}")
    print(
        f"machine: {os.cpu_count()} cores; {args.quotes} quotes per figure, each with 3 coupons,"
        " points and a grade discount (4 steps, 2 ranks)\n"
    )
    print(f"{'quote':<34}{'quotes/s':>10}{'db ops/quote':>14}{'db ms/quote':>13}  data size")
    grown = 0
    for size in (int(s) for s in args.sizes.split(",")):
        grow(store, definitions, grown, size, services.clock.now_ms())
        grown = size
        members = list(range(FIRST_MEMBER, FIRST_MEMBER + size))
        data = size_text(store.counts(COLLECTIONS))
        figures = {}
        for label, quote, threads in (
            ("ours (service)", ours, 1),
            ("naive: re-reads per step", naive, 1),
            ("ours (POST /api/checkout/quote)", over_api, 1),
            (f"ours (service, {args.threads} threads)", ours, args.threads),
        ):
            meter.reset()
            rate, totals = measure(quote, members, args.quotes, threads)
            figures[label] = totals
            ops, db_ms = meter.operations / args.quotes, meter.seconds / args.quotes * 1000
            print(f"{label:<34}{rate:>10.0f}{ops:>14.2f}{db_ms:>13.2f}  {data}")
        assert figures["ours (service)"] == figures["naive: re-reads per step"]  # the same quotes
        assert set(figures["ours (service)"]) == {21000}  # 300 - (30 + 20 + 15 + 5) - 20
        print()
    print("db ms/quote: time inside database calls (threads: summed over threads)")
    services.close()


if __name__ == "__main__":
    main()

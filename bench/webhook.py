"""Benchmark of the webhook's full path against wechatpy's bare example handler.

Full path: verify the signature, parse, claim the delivery, write the records,
render the reply (and encrypt it in safe mode). Baseline: wechatpy's example
(check_signature + parse_message + create_reply, and WeChatCrypto in safe mode),
no database. Both run in-process through Flask's test client, in the same run,
on the same signed requests, block by block, so the ratio (ours / bare events
per second) cancels what the machine does meanwhile.

1. Growth: ``--events`` deliveries into one database that is never emptied (a
   new follower, then a text from them, and so on), in blocks of ``--window``;
   a row for the first block and for the block ending at each checkpoint, with
   the data size it ran at and its ratio against the first block's.
2. Per event kind at the data size reached: follow and text, plain and safe
   mode: events/s, p50/p99 latency, database operations per event.
3. Staff query ``GET /api/logs?wxid=``: p50/p99 at the data size reached, after
   ``--prefill-logs N`` records written in bulk (spread over ``--prefill-wxids``).

    python bench/webhook.py [--events 4000] [--prefill-logs 100000]
                            [--data-dir DIR | --mongo-uri mongodb://… | --db mongomock]
"""

import argparse
import logging
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask import Flask, request  # noqa: E402
from wechatpy import create_reply, parse_message  # noqa: E402
from wechatpy.crypto import WeChatCrypto  # noqa: E402
from wechatpy.utils import check_signature  # noqa: E402

from bench.metering import MeteredDatabase  # noqa: E402
from bench.store import BenchStore, add_arguments, size_text  # noqa: E402
from wxmember import create_app  # noqa: E402
from wxmember.composition import bootstrap  # noqa: E402
from wxmember.config import DEFAULTS, validate  # noqa: E402
from wxmember.db.collections import CUSTOMERS, DELIVERIES, FEEDS, LOGS  # noqa: E402
from wxmember.records import open_records  # noqa: E402
from wxmember.wechat import simulator  # noqa: E402
from wxmember.wechat.crypto import MessageCrypto  # noqa: E402

TOKEN = "bench-token"
APPID = "wxbench000000000"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
STAFF_TOKEN = "bench-staff-token"
HOT_USER = "oLogHot"
COLLECTIONS = {
    "customers": CUSTOMERS,
    "logs": LOGS,
    "deliveries": DELIVERIES,
    "feeds": FEEDS,
}


def bare_app(safe):
    """wechatpy's README example, as a Flask view (with its WeChatCrypto in safe mode)."""
    app = Flask("bare")
    crypto = WeChatCrypto(TOKEN, AES_KEY, APPID) if safe else None

    @app.post("/wechat")
    def wechat():
        args = request.args
        check_signature(TOKEN, args["signature"], args["timestamp"], args["nonce"])
        body = request.data
        if crypto:
            body = crypto.decrypt_message(
                body, args["msg_signature"], args["timestamp"], args["nonce"]
            )
        message = parse_message(body)
        text = message.content if message.type == "text" else "Sorry, can not handle this for now"
        reply = create_reply(text, message).render()
        return crypto.encrypt_message(reply, args["nonce"]) if crypto else reply

    return app.test_client()


class Ours:
    """The wxmember app over the run's database, its operations counted."""

    def __init__(self, store, safe):
        config = {section: dict(values) for section, values in DEFAULTS.items()}
        config["mongo"] = dict(store.mongo)
        config["wechat"].update(token=TOKEN, appid=APPID, encoding_aes_key=AES_KEY if safe else "")
        config["replies"].update(welcome="欢迎关注！", keywords={"积分": "请先绑定会员卡。"})
        config["console"].update(api_token=STAFF_TOKEN, session_secret="bench")
        config["scheduler"]["enabled"] = False
        validate(config)
        open_records(store.database)  # indexes and (on a server) the logs validator, unmetered
        self.meter = MeteredDatabase(store.database)
        self.services = bootstrap(config, database=self.meter)
        self.client = create_app(services=self.services).test_client()

    def close(self):
        self.services.close()


def deliveries(kind, openids, msg_base=0):
    """One XML delivery of ``kind`` (follow or text) per openid."""
    now = int(time.time())
    for n, openid in enumerate(openids):
        if kind == "follow":
            yield simulator.to_xml(simulator.message_fields("subscribe", openid, now))
        else:
            fields = simulator.message_fields(
                "text", openid, now, msg_id=msg_base + n + 1, content="积分"
            )
            yield simulator.to_xml(fields)


def growth_stream(start, count):
    """Deliveries ``start``… of the growth run: a new follower, then a text from them."""
    for n in range(start, start + count):
        openid = f"oGrow{n // 2:08d}"
        kind = "follow" if n % 2 == 0 else "text"
        yield from deliveries(kind, [openid], msg_base=n)


def signed(xmls, safe):
    """The (query, body) WeChat would send for each XML; signing is not timed."""
    crypto = MessageCrypto(AES_KEY, APPID) if safe else None
    return [simulator.signed_request(xml, TOKEN, crypto) for xml in xmls]


def post(client, query, body):
    """One POST /wechat; its latency in seconds."""
    started = time.perf_counter()
    response = client.post("/wechat", query_string=query, data=body.encode())
    elapsed = time.perf_counter() - started
    assert response.status_code == 200, response.data
    return elapsed


def timed(client, requests):
    """Latency of each POST /wechat, in seconds."""
    return [post(client, query, body) for query, body in requests]


def timed_pair(ours, bare, requests):
    """Each request to ours, then the same to bare: both see the machine as it is then."""
    pairs = [(post(ours, *request), post(bare, *request)) for request in requests]
    return [o for o, _ in pairs], [b for _, b in pairs]


def rate(latencies):
    return len(latencies) / sum(latencies)


def percentiles(latencies):
    """(p50, p99) in milliseconds."""
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return statistics.median(ordered) * 1000, p99 * 1000


def warm_up(ours, bare, count=20):
    """First requests (connections, lazy imports) out of the figures; data size printed."""
    openids = [f"oWarm{n:04d}" for n in range(count)]
    timed_pair(ours.client, bare, signed(deliveries("follow", openids), safe=False))


def growth(store, ours, bare, events, window, checkpoints):
    """Blocks of ``window`` deliveries into the same database; a row per checkpoint."""
    warm_up(ours, bare)
    print(
        f"1. growth: {events:,} deliveries (follow of a new user, then a text from them), "
        f"never emptied; rows are the block of {window} ending there; each request goes "
        f"to ours, then to bare (after 20 warm-up follows)\n"
    )
    print(
        f"{'after':>8}{'ours ev/s':>11}{'bare ev/s':>11}{'ratio':>8}{'vs first':>10}"
        f"{'p50 ms':>8}{'p99 ms':>8}{'max ms':>8}{'ops/ev':>8}{'cpu ms/ev':>11}"
        "  data size at the block's end"
    )
    first_ratio = None
    sys.stdout.flush()
    for start in range(0, events, window):
        count = min(window, events - start)
        requests = signed(growth_stream(start, count), safe=False)
        ours.meter.reset()
        cpu_before = store.cpu_seconds()
        latencies, bare_latencies = timed_pair(ours.client, bare, requests)
        cpu = cpu_text(cpu_before, store.cpu_seconds(), count)
        ops = ours.meter.operations / count
        base = rate(bare_latencies)
        ratio = rate(latencies) / base
        first_ratio = first_ratio or ratio
        done = start + count
        if start == 0 or done in checkpoints or done == events:
            p50, p99 = percentiles(latencies)
            print(
                f"{done:>8,}{rate(latencies):>11.0f}{base:>11.0f}{ratio:>8.3f}"
                f"{ratio / first_ratio:>10.2f}{p50:>8.2f}{p99:>8.2f}{max(latencies) * 1000:>8.0f}"
                f"{ops:>8.2f}{cpu:>11}  "
                f"{size_text(store.counts(COLLECTIONS))}",
                flush=True,
            )
    print(
        "\nratio: ours / bare events per second; vs first: ratio / the first block's ratio;"
        "\ncpu ms/ev: CPU per event of this process (both apps) + the engine's server, which"
        "\nother work on the machine does not inflate the way it does wall-clock rates;"
        "\nmax ms: the slowest delivery of the block (a stall of the database shows here)\n"
    )


def cpu_text(before, after, count):
    """``1.9+4.0``: CPU ms per event of this process and of the engine (when known)."""
    ours = (after[0] - before[0]) / count * 1000
    if before[1] is None:
        return f"{ours:.1f}"
    return f"{ours:.1f}+{(after[1] - before[1]) / count * 1000:.1f}"


def per_kind(store, apps, bares, sample):
    """Follow and text, plain and safe, ``sample`` fresh deliveries each."""
    print(
        f"2. per event kind: {sample} deliveries each, at {size_text(store.counts(COLLECTIONS))}\n"
    )
    print(
        f"{'scenario':<18}{'events/s':>9}{'p50 ms':>8}{'p99 ms':>8}{'db ops':>8}"
        f"{'db ms':>7}{'ratio':>8}  logs before"
    )
    for kind in ("follow", "text"):
        for safe in (False, True):
            mode = " safe" if safe else ""
            openids = [f"o{kind.title()}{'S' if safe else 'P'}{n:07d}" for n in range(sample)]
            if kind == "text":  # followers already, as texts come from followers
                timed(apps[safe].client, signed(deliveries("follow", openids), safe))
            requests = signed(deliveries(kind, openids, msg_base=10**9), safe)
            logs_before = store.counts({"logs": LOGS})["logs"]
            meter = apps[safe].meter
            meter.reset()
            latencies, bare_latencies = timed_pair(apps[safe].client, bares[safe], requests)
            base = rate(bare_latencies)
            print(f"{'bare ' + kind + mode:<18}{base:>9.0f}")
            p50, p99 = percentiles(latencies)
            print(
                f"{'ours ' + kind + mode:<18}{rate(latencies):>9.0f}{p50:>8.2f}{p99:>8.2f}"
                f"{meter.operations / sample:>8.2f}{meter.seconds / sample * 1000:>7.2f}"
                f"{rate(latencies) / base:>8.3f}  {logs_before:,}",
                flush=True,
            )
    print(
        "\ndb ops: database operations per event (a new follower adds its feed item);"
        " db ms: time inside them per event\n"
    )


def prefill_logs(store, count, wxids, hot_every, batch=1000):
    """``count`` log records written with insert_many, as the webhook writes them; seconds."""
    collection = store.database[LOGS]
    now = int(time.time() * 1000) - count
    chooser = random.Random(7)
    started = time.perf_counter()
    for first in range(0, count, batch):
        records = []
        for n in range(first, min(count, first + batch)):
            hot = hot_every and n % hot_every == 0
            wxid = HOT_USER if hot else f"oLog{chooser.randrange(wxids):07d}"
            records.append(
                {
                    "createTime": now + n,
                    "wxid": wxid,
                    "action": "text",
                    "data": {"MsgType": "text", "Content": "积分", "MsgId": str(n)},
                    "msgKey": f"msg|{n}|{wxid}|{(now + n) // 1000}",
                    "reply": "请先绑定会员卡。",
                }
            )
        collection.insert_many(records, ordered=False)
    return time.perf_counter() - started


def logs_query(ours, queries, users):
    """p50/p99 of ``GET /api/logs?wxid=`` for ``users`` picked at random: first page, next."""
    chooser = random.Random(8)
    headers = {"Authorization": f"Bearer {STAFF_TOKEN}"}
    pages = {"first": [], "next": []}
    for _ in range(queries):
        query = {"wxid": chooser.choice(users)}
        for page in ("first", "next"):
            started = time.perf_counter()
            response = ours.client.get("/api/logs", query_string=query, headers=headers)
            pages[page].append(time.perf_counter() - started)
            assert response.status_code == 200, response.data
            query["cursor"] = response.get_json()["next"]
            if not query["cursor"]:
                break
    return pages


def logs_queries(store, ours, queries, wxids, prefilled):
    """The staff query by wxid at the current size: typical users, and the hot one."""
    typical = [f"oGrow{n:08d}" for n in range(50)]
    if prefilled:
        typical = [f"oLog{n:07d}" for n in range(wxids)]
    groups = [("typical users", typical)]
    if prefilled and store.database[LOGS].find_one({"wxid": HOT_USER}, {"_id": 1}):
        groups.append(("the hot user", [HOT_USER]))
    print(f"3. GET /api/logs?wxid= (limit 50), at {size_text(store.counts({'logs': LOGS}))}\n")
    print(
        f"{'whose logs':<16}{'records each':>13}{'page':>6}{'queries':>9}{'p50 ms':>8}{'p99 ms':>8}"
    )
    for label, users in groups:
        each = store.database[LOGS].count_documents({"wxid": {"$in": users}}) / len(users)
        for page, latencies in logs_query(ours, queries, users).items():
            if latencies:
                p50, p99 = percentiles(latencies)
                print(
                    f"{label:<16}{each:>13,.0f}{page:>6}{len(latencies):>9}{p50:>8.2f}{p99:>8.2f}"
                )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=4000, help="deliveries of the growth run")
    parser.add_argument("--window", type=int, default=500, help="deliveries per timed block")
    parser.add_argument(
        "--checkpoints",
        default="4000,10000,20000,30000,40000,50000",
        help="rows of the growth run after these many deliveries (and at the end)",
    )
    parser.add_argument("--sample", type=int, default=500, help="deliveries per event kind")
    parser.add_argument("--prefill-logs", type=int, default=0, help="log records added in bulk")
    parser.add_argument("--prefill-wxids", type=int, default=1000, help="users they belong to")
    parser.add_argument(
        "--prefill-hot", type=int, default=20, help="every N-th prefilled record: one hot user"
    )
    parser.add_argument("--queries", type=int, default=200, help="logs queries to time")
    add_arguments(parser, mongomock=True)
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    sys.stdout.reconfigure(line_buffering=True)
    checkpoints = {int(c) for c in args.checkpoints.split(",") if c}
    with BenchStore(args) as store:
        print(f"database: {store.engine}")
        print(f"machine: {os.cpu_count()} cores; Python {sys.version.split()[0]}\n")
        apps = {False: Ours(store, safe=False), True: Ours(store, safe=True)}
        bares = {False: bare_app(False), True: bare_app(True)}
        try:
            growth(store, apps[False], bares[False], args.events, args.window, checkpoints)
            per_kind(store, apps, bares, args.sample)
            if args.prefill_logs:
                seconds = prefill_logs(
                    store, args.prefill_logs, args.prefill_wxids, args.prefill_hot
                )
                hot = f", every {args.prefill_hot}th for one user" if args.prefill_hot else ""
                print(
                    f"prefilled {args.prefill_logs:,} log records over {args.prefill_wxids:,}"
                    f" users{hot} in {seconds:.1f} s (insert_many, 1000 a batch)\n"
                )
            logs_queries(store, apps[False], args.queries, args.prefill_wxids, args.prefill_logs)
        finally:
            for app in apps.values():
                app.close()


if __name__ == "__main__":
    main()

"""Benchmark of the webhook's full path against wechatpy's bare example handler.

Full path: verify the signature, parse, claim the delivery, write the records,
render the reply (and encrypt it in safe mode). Baseline: wechatpy's example
(check_signature + parse_message + create_reply), no database. Both run
in-process through Flask's test client, in the same run, on the same requests.

The database is mongomock, which scans every document on each lookup, so each
round starts from an empty database and stays small (``--round`` deliveries);
the time spent inside mongomock is measured and reported separately.

    python bench/webhook.py [--events 2000] [--round 250]
"""

import argparse
import logging
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask import Flask, request  # noqa: E402
from wechatpy import create_reply, parse_message  # noqa: E402
from wechatpy.utils import check_signature  # noqa: E402

from bench.metering import MeteredDatabase  # noqa: E402
from wxmember import create_app, db  # noqa: E402
from wxmember.bootstrap import bootstrap  # noqa: E402
from wxmember.config import DEFAULTS, validate  # noqa: E402
from wxmember.wechat import simulator  # noqa: E402
from wxmember.wechat.crypto import MessageCrypto  # noqa: E402

TOKEN = "bench-token"
APPID = "wxbench000000000"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"


def bare_app():
    """wechatpy's README example, as a Flask view."""
    app = Flask("bare")

    @app.post("/wechat")
    def wechat():
        args = request.args
        check_signature(TOKEN, args["signature"], args["timestamp"], args["nonce"])
        message = parse_message(request.data)
        text = message.content if message.type == "text" else "Sorry, can not handle this for now"
        return create_reply(text, message).render()

    return app


def our_app(safe):
    config = {section: dict(values) for section, values in DEFAULTS.items()}
    config["wechat"].update(token=TOKEN, appid=APPID, encoding_aes_key=AES_KEY if safe else "")
    config["replies"].update(welcome="欢迎关注！", keywords={"积分": "请先绑定会员卡。"})
    validate(config)
    meter = MeteredDatabase(db.connect("mongomock://", "bench"))
    services = bootstrap(config, database=meter)
    return create_app(services=services), meter, services


def deliveries(kind, count, offset):
    """``count`` distinct deliveries: follows of new users, or texts."""
    now = int(time.time())
    for n in range(offset, offset + count):
        openid = f"oBench{n:08d}"
        if kind == "follow":
            yield simulator.to_xml(simulator.message_fields("subscribe", openid, now))
        else:
            fields = simulator.message_fields("text", openid, now, msg_id=n, content="积分")
            yield simulator.to_xml(fields)


def measure(client, xmls, crypto=None):
    latencies = []
    for xml in xmls:
        query, body = simulator.signed_request(xml, TOKEN, crypto)
        started = time.perf_counter()
        response = client.post("/wechat", query_string=query, data=body.encode())
        latencies.append(time.perf_counter() - started)
        assert response.status_code == 200, response.data
    return latencies


def run_ours(kind, events, round_size, safe):
    crypto = MessageCrypto(AES_KEY, APPID) if safe else None
    latencies, operations, mongo_seconds = [], 0, 0.0
    for offset in range(0, events, round_size):
        app, meter, services = our_app(safe)  # a fresh, small database each round
        client = app.test_client()
        meter.reset()
        latencies += measure(client, deliveries(kind, round_size, offset), crypto)
        operations += meter.operations
        mongo_seconds += meter.seconds
        services.close()
    return latencies, operations / events, mongo_seconds / events


def summary(latencies):
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return len(latencies) / sum(latencies), statistics.median(ordered) * 1000, p99 * 1000


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000, help="deliveries per scenario")
    parser.add_argument("--round", type=int, default=250, help="deliveries per fresh database")
    args = parser.parse_args()
    logging.disable(logging.INFO)  # one start-up line per round would drown the table

    bare = bare_app().test_client()
    print(
        f"{args.events} deliveries per scenario; database emptied every {args.round} "
        f"deliveries (mongomock holds at most {args.round} documents per collection)\n"
    )
    print(
        f"{'scenario':<16}{'events/s':>10}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'mongo ops':>11}{'mongo ms':>10}{'vs bare':>9}{'gap in mongo':>14}"
    )
    for kind in ("follow", "text"):
        base_rate, base_p50, _ = row = summary(measure(bare, deliveries(kind, args.events, 0)))
        print(f"{'bare ' + kind:<16}{row[0]:>10.0f}{row[1]:>9.2f}{row[2]:>9.2f}")
        for safe in (False, True):
            latencies, ops, mongo_s = run_ours(kind, args.events, args.round, safe)
            rate, p50, p99 = summary(latencies)
            mean_gap = statistics.mean(latencies) - 1 / base_rate
            share = mongo_s / mean_gap if mean_gap > 0 else 0.0
            name = f"ours {kind}{' safe' if safe else ''}"
            print(
                f"{name:<16}{rate:>10.0f}{p50:>9.2f}{p99:>9.2f}{ops:>11.2f}"
                f"{mongo_s * 1000:>10.3f}{base_rate / rate:>8.1f}x{share:>13.0%}"
            )
    print("\nvs bare: how many times slower than wechatpy's bare handler (events/s ratio).")
    print("gap in mongo: share of the extra time per event spent inside mongomock calls.")


if __name__ == "__main__":
    main()

"""Benchmark of the console's log exports: CSV and Excel of N log records, streamed.

Writes ``--rows`` records into ``lavico/user/logs`` (in bulk), signs in to the
console as a viewer (the masked export: the most work per row), and downloads
``/console/logs.csv`` and ``/console/logs.xlsx`` through the Flask test client,
reading the answer chunk by chunk as a browser would. For each: rows per second,
the size sent, and the peak memory Python allocated during the export
(tracemalloc, a second pass: tracing slows it), beside the same peak for a tenth
of the rows: a streamed export's peak does not grow with the rows.

    python bench/console_export.py [--rows 100000] [--data-dir DIR | --mongo-uri mongodb://…]
"""

import argparse
import re
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.store import BenchStore, add_arguments, size_text  # noqa: E402
from wxmember import create_app  # noqa: E402
from wxmember.config import load_config  # noqa: E402
from wxmember.staff.actor import cli_actor  # noqa: E402

LOGS = "lavico/user/logs"
BASE = 1_780_000_000_000
PASSWORD = "bench-password-1"


def fill(database, first, count):
    """``count`` records like a webhook writes them (texts and clicks over 1,000 users)."""
    batch = []
    for i in range(first, first + count):
        batch.append(
            {
                "createTime": BASE + i * 1000,
                "wxid": f"oBench{i % 1000:04d}",
                "action": "text" if i % 2 else "click",
                "data": {
                    "ToUserName": "gh_bench",
                    "FromUserName": f"oBench{i % 1000:04d}",
                    "CreateTime": (BASE + i * 1000) // 1000,
                    "MsgType": "text" if i % 2 else "event",
                    "Content": f"第{i}条消息，手机13912345678" if i % 2 else "",
                    "MsgId": str(10**15 + i),
                },
            }
        )
        if len(batch) == 10_000:
            database[LOGS].insert_many(batch)
            batch = []
    if batch:
        database[LOGS].insert_many(batch)


def app_on(store):
    folder = Path(tempfile.mkdtemp(prefix="wxmember-bench-console-"))
    config = {
        "mongo": store.mongo,
        "wechat": {"token": "bench"},
        "console": {"api_token": "bench-token"},
        "scheduler": {"enabled": False},
    }
    (folder / "config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    return create_app(config=load_config(folder / "config.yaml", {}))


def signed_in(app):
    app.extensions["wxmember"].staff.add("bench", "viewer", PASSWORD, cli_actor())
    client = app.test_client()
    page = client.get("/console/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    form = {"username": "bench", "password": PASSWORD, "csrf_token": token}
    assert client.post("/console/login", data=form).status_code == 302
    return client


def export(client, path, query="", trace=False):
    """``(seconds, bytes, peak bytes allocated or None)`` of one download, read in chunks."""
    if trace:
        tracemalloc.start()
    started = time.perf_counter()
    answer = client.get(f"{path}{query}", buffered=False)
    size = sum(len(chunk) for chunk in answer.response)
    answer.close()
    elapsed = time.perf_counter() - started
    peak = None
    if trace:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return elapsed, size, peak


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="log records to export")
    add_arguments(parser)
    args = parser.parse_args()
    with BenchStore(args) as store:
        print(f"engine: {store.engine}")
        app = app_on(store)
        try:
            client = signed_in(app)
            fill(store.database, 0, args.rows)
            tenth = args.rows // 10
            since = f"?since={BASE + (args.rows - tenth) * 1000}"  # the newest tenth
            print(f"data: {size_text(store.counts({'logs': LOGS}))}")
            print(
                f"{'export':<6} {'rows':>8} {'rows/s':>8} {'MB sent':>8} "
                f"{'peak MB':>8} {'peak MB (1/10 rows)':>20}"
            )
            for path in ("/console/logs.csv", "/console/logs.xlsx"):
                seconds, size, _ = export(client, path)
                _, _, peak = export(client, path, trace=True)
                _, _, small_peak = export(client, path, since, trace=True)
                print(
                    f"{path.rsplit('.', 1)[1]:<6} {args.rows:>8,} {args.rows / seconds:>8,.0f} "
                    f"{size / 1e6:>8.1f} {peak / 1e6:>8.1f} {small_peak / 1e6:>20.1f}"
                )
        finally:
            app.extensions["wxmember"].close()


if __name__ == "__main__":
    main()

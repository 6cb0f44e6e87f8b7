"""The embedded engine: its connection settings, and what survives ``kill -9``."""

import json
import os
import signal
import time
from pathlib import Path

import pymongo
import pytest
from pymongo import UpdateOne, uri_parser

from jobs import cursor as cursors
from wxmember import db
from wxmember.db import engine
from wxmember.db.engine import Engine

pytestmark = pytest.mark.mongo  # the engine itself, never mongomock


def test_engine_uri_journals_writes_and_leaves_retryable_writes_off():
    uri = Engine(pid=1, port=27999, version="0", data_dir=Path("/tmp")).uri
    options = uri_parser.parse_uri(uri)["options"]
    assert options["journal"] is True  # acknowledged = on disk (kill -9 loses nothing)
    # The engine keeps every retryable write's reply and walks them all on each write.
    assert options["retryWrites"] is False


def _kill_engine(data_dir):
    """``kill -9`` the engine and its server: nothing gets to close the store."""
    info = json.loads((data_dir / "engine.json").read_text())
    for pid in (info["server_pid"], info["pid"]):
        os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while engine.running(data_dir) is not None or Path(f"/proc/{info['server_pid']}").exists():
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_a_sync_page_is_durable_once_its_cursor_has_moved_even_after_kill_9(tmp_path):
    data_dir = tmp_path / "db"
    client = pymongo.MongoClient(engine.ensure_running(data_dir, idle_exit_s=60).uri)
    database = client["sync"]
    customers = database["welab/customers"]
    customers.insert_many([{"_id": n, "city": "old"} for n in range(300)])
    # A page as the member sync writes it (not waiting for the journal), then the cursor.
    page = [UpdateOne({"_id": n}, {"$set": {"city": "new"}}) for n in range(300)]
    db.without_journal_wait(customers).bulk_write(page, ordered=False)
    cursors.save_cursor(database, "member_sync", 300)
    client.close()

    _kill_engine(data_dir)
    client = pymongo.MongoClient(engine.ensure_running(data_dir, idle_exit_s=60).uri)
    try:
        assert cursors.read_cursor(client["sync"], "member_sync") == 300
        assert client["sync"]["welab/customers"].count_documents({"city": "new"}) == 300
    finally:
        client.close()
        engine.stop(data_dir)

"""The CLI against a real running server: simulate (plain and safe) and logs (table, JSON, CSV)."""

import csv
import io
import json
import socket
import subprocess
import sys
import time

import pytest
import requests

from tests.conftest import KEYWORDS, STAFF_TOKEN, WELCOME, LiveServer, database_of, write_config
from wxmember.cli import cli


@pytest.fixture
def safe_server(make_app):
    server = LiveServer(make_app(safe=True))
    yield server
    server.stop()


def _invoke(runner, tmp_path, *args, safe=False):
    config = write_config(tmp_path, safe=safe)
    return runner.invoke(cli, ["--config", str(config), *args], obj={}, catch_exceptions=False)


def test_simulate_subscribe_prints_the_welcome(runner, tmp_path, app, live_server):
    url = f"{live_server.url}/wechat"
    result = _invoke(runner, tmp_path, "simulate", "subscribe", "--openid", "oCli", "--url", url)
    assert result.exit_code == 0, result.output
    assert WELCOME in result.output
    assert database_of(app)["welab/customers"].find_one({"wechatid": "oCli"})["isFollow"]


def test_simulate_safe_mode_encrypts_and_decrypts(runner, tmp_path, safe_server):
    url = f"{safe_server.url}/wechat"
    args = ("simulate", "text", "--openid", "oCli", "--content", "积分", "--url", url, "--safe")
    result = _invoke(runner, tmp_path, *args, safe=True)
    assert result.exit_code == 0, result.output
    assert KEYWORDS["积分"] in result.output


def test_simulate_repeat_is_handled_once(runner, tmp_path, app, live_server):
    url = f"{live_server.url}/wechat"
    args = ("simulate", "text", "--openid", "oCli", "--url", url, "--repeat", "3")
    result = _invoke(runner, tmp_path, *args)
    assert result.output.count("HTTP 200") == 3
    assert database_of(app)["lavico/user/logs"].count_documents({}) == 1


def test_simulate_safe_without_key_is_a_clear_error(runner, tmp_path):
    result = _invoke(runner, tmp_path, "simulate", "text", "--openid", "o", "--safe")
    assert result.exit_code != 0
    assert "encoding_aes_key" in result.output


def test_simulate_unreachable_server_is_a_clear_error(runner, tmp_path):
    url = "http://127.0.0.1:9/wechat"
    result = _invoke(runner, tmp_path, "simulate", "text", "--openid", "o", "--url", url)
    assert result.exit_code != 0
    assert "cannot reach" in result.output


@pytest.fixture
def filled_server(runner, tmp_path, live_server):
    url = f"{live_server.url}/wechat"
    for openid in ("oA", "oB"):
        _invoke(runner, tmp_path, "simulate", "subscribe", "--openid", openid, "--url", url)
    _invoke(runner, tmp_path, "simulate", "text", "--openid", "oA", "--content", "hi", "--url", url)
    return live_server


def test_logs_table(runner, tmp_path, filled_server):
    result = _invoke(runner, tmp_path, "logs", "--url", filled_server.url)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["time", "wxid", "action", "data"]
    assert [line.split()[2] for line in lines[2:5]] == ["oA", "oB", "oA"]  # newest first
    assert "(3 records)" in result.output


def test_logs_json_filters_by_wxid(runner, tmp_path, filled_server):
    args = ("logs", "--url", filled_server.url, "--wxid", "oA", "--json")
    result = _invoke(runner, tmp_path, *args)
    items = [json.loads(line) for line in result.output.splitlines()]
    assert [item["action"] for item in items] == ["text", "subscribe"]
    assert all(item["wxid"] == "oA" for item in items)


def test_logs_csv_follows_pages(runner, tmp_path, filled_server):
    args = ("logs", "--url", filled_server.url, "--csv", "--limit", "1", "--pages", "5")
    result = _invoke(runner, tmp_path, *args)
    rows = list(csv.reader(io.StringIO(result.output)))
    assert rows[0] == ["time", "wxid", "action", "data"]
    assert len(rows) == 4


def test_logs_with_wrong_token_is_a_clear_error(runner, tmp_path, live_server):
    args = ("logs", "--url", live_server.url, "--token", "nope")
    result = _invoke(runner, tmp_path, *args)
    assert result.exit_code != 0
    assert "HTTP 401" in result.output
    assert STAFF_TOKEN not in result.output


def test_serve_runs_on_loopback_by_default(tmp_path):
    port = _free_port()
    command = [sys.executable, "-m", "wxmember", "--config", str(write_config(tmp_path))]
    process = subprocess.Popen(
        [*command, "serve", "--port", str(port)], stderr=subprocess.PIPE, text=True
    )
    try:
        health = _wait_for(f"http://127.0.0.1:{port}/healthz")
        assert health["ok"] is True
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=10)
    assert f"Running on http://127.0.0.1:{port}" in stderr


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for(url, attempts=100):
    for _ in range(attempts):
        try:
            return requests.get(url, timeout=1).json()
        except requests.ConnectionError:
            time.sleep(0.1)
    raise AssertionError(f"{url} never answered")


def test_a_database_that_does_not_answer_is_one_line_naming_the_key(tmp_path):
    config = write_config(
        tmp_path,
        mongo={"uri": f"mongodb://127.0.0.1:{_free_port()}/"},
        console={"api_token": "t", "session_secret": "s"},
        crm={"base_url": "http://127.0.0.1:9"},
    )
    command = [sys.executable, "-m", "wxmember", "--config", str(config), "serve"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    [line] = result.stderr.strip().splitlines()  # one line, no traceback
    assert line.startswith("Error: config error: mongo.uri: the database at 127.0.0.1:")
    assert line.endswith("does not answer (ServerSelectionTimeoutError)")

"""Fixtures: config file → app → client / runner, and a WeChat that signs like the real one."""

import base64
import os
import uuid

import pymongo
import pytest
import yaml

from tests.fake_wechat_api import FakeWeChatAPI
from wxmember import create_app
from wxmember.clock import FakeClock
from wxmember.composition import bootstrap
from wxmember.config import load_config
from wxmember.db import engine
from wxmember.httpserver import BackgroundServer
from wxmember.wechat import simulator
from wxmember.wechat.crypto import MessageCrypto

pytest_plugins = ["tests.browser"]  # the `browser` fixture: Debian's Chromium

TOKEN = "test-token"
STAFF_TOKEN = "staff-secret-token"
APPID = "wx1234567890abcdef"
AES_KEY = base64.b64encode(bytes(range(32))).decode().rstrip("=")
WELCOME = "欢迎关注测试品牌！"
KEYWORDS = {
    "积分": "请先绑定会员卡。",
    "积分规则": "消费1元积1分。",
    "V1001_TODAY_MUSIC": "今日推荐",
}

ALL_COLLECTIONS = ("welab/customers", "welab/feeds", "lavico/user/logs", "wxmember/deliveries")


MOCK_URI = "mongomock://"
TEST_MONGO = {}  # the running test's database: set by the ``test_database`` fixture


def pytest_addoption(parser):
    parser.addoption(
        "--db",
        choices=("engine", "mongomock"),
        default=os.environ.get("WXMEMBER_TEST_DB", "engine"),
        help="database of the suite: engine (the embedded SecantusDB, started for the run) "
        "or mongomock (quickest; tests marked mongo still run on the engine)",
    )


@pytest.fixture(scope="session")
def engine_dir(tmp_path_factory):
    """The data directory of an embedded engine started for the run (stopped at its end)."""
    data_dir = tmp_path_factory.mktemp("engine")
    engine.ensure_running(data_dir, idle_exit_s=300)
    yield data_dir
    engine.stop(data_dir)


class _MockSession:
    """mongomock has no sessions: its "transaction" runs the work once, without a session."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def with_transaction(self, work):
        return work(None)


@pytest.fixture(autouse=True)
def test_database(request, monkeypatch):
    """Each test gets a database of its own (dropped afterwards); ``write_config`` uses it."""
    on_mock = request.config.getoption("--db") == "mongomock"
    TEST_MONGO.clear()
    if on_mock and request.node.get_closest_marker("mongo") is None:
        import mongomock

        monkeypatch.setattr(mongomock.MongoClient, "start_session", lambda *a, **k: _MockSession())
        TEST_MONGO.update(uri=MOCK_URI, database="wxmember_test")
        yield TEST_MONGO
        return
    data_dir = request.getfixturevalue("engine_dir")
    TEST_MONGO.update(uri="embedded://", data_dir=str(data_dir), database=f"t_{uuid.uuid4().hex}")
    yield TEST_MONGO
    client = pymongo.MongoClient(engine.running(data_dir).uri)
    client.drop_database(TEST_MONGO["database"])
    client.close()


def write_config(tmp_path, safe=False, **sections):
    """A config.yaml for a test; ``sections`` override whole keys."""
    config = {
        "mongo": dict(TEST_MONGO),
        "wechat": {"token": TOKEN, "appid": APPID},
        "console": {"api_token": STAFF_TOKEN},
        "scheduler": {"enabled": False},
        "replies": {"welcome": WELCOME, "keywords": KEYWORDS},
    }
    if safe:
        config["wechat"]["encoding_aes_key"] = AES_KEY
    for section, values in sections.items():
        config.setdefault(section, {}).update(values)
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture
def clock():
    """A clock standing still until the test sets it: ``make_app(clock=clock)`` hands it to
    every store and service of the app."""
    return FakeClock()


@pytest.fixture
def make_app(tmp_path):
    """Build apps from a test config; their background work is stopped afterwards."""
    apps = []

    def build(safe=False, environ=None, services=None, clock=None, **sections):
        if services is None:
            config = load_config(write_config(tmp_path, safe, **sections), environ or {})
            if clock is None:
                app = create_app(config=config)
            else:  # the scheduler, off in tests, is all create_app(config=) adds
                app = create_app(services=bootstrap(config, clock=clock))
        else:
            app = create_app(services=services)
        apps.append(app)
        return app

    yield build
    for app in apps:
        app.extensions["wxmember"].close()


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def database_of(app):
    return app.extensions["wxmember"].database


def count_documents(app):
    """Documents per collection, to prove a refusal wrote nothing."""
    database = database_of(app)
    return {name: database[name].count_documents({}) for name in ALL_COLLECTIONS}


class WeChat:
    """Posts deliveries to an app the way WeChat's servers do."""

    def __init__(self, client, safe=False):
        self.client = client
        self.crypto = MessageCrypto(AES_KEY, APPID) if safe else None

    def post(self, xml, **query_overrides):
        query, body = simulator.signed_request(xml, TOKEN, self.crypto)
        query.update(query_overrides)
        return self.client.post("/wechat", query_string=query, data=body.encode())

    def reply(self, response):
        """The fields of a passive reply ({} for ``success``), decrypted in safe mode."""
        assert response.status_code == 200, response.data
        return simulator.open_reply(response.get_data(as_text=True), TOKEN, self.crypto)


@pytest.fixture(params=["plain", "safe"])
def mode(request):
    return request.param


@pytest.fixture
def wechat_app(make_app, mode):
    return make_app(safe=mode == "safe")


@pytest.fixture
def wechat(wechat_app, mode):
    return WeChat(wechat_app.test_client(), safe=mode == "safe")


def LiveServer(app):  # noqa: N802 - reads like the class it builds
    """The app behind a real threaded HTTP server on loopback."""
    return BackgroundServer(app).start()


@pytest.fixture
def wechat_api():
    """A stand-in for WeChat's API servers over HTTP (see tests/fake_wechat_api.py)."""
    api = FakeWeChatAPI()
    yield api
    api.stop()


@pytest.fixture
def live_server_for():
    """Serve any app over HTTP for the test; stopped afterwards."""
    servers = []

    def serve(app):
        servers.append(LiveServer(app))
        return servers[-1]

    yield serve
    for server in servers:
        server.stop()


@pytest.fixture
def live_server(app):
    server = LiveServer(app)
    yield server
    server.stop()

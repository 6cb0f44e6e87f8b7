"""The staff API: token auth, log queries newest first with cursors, customers."""

import base64
import dataclasses
import http.client
import json
import socket

import pymongo
import pytest

from tests import samples
from tests.conftest import STAFF_TOKEN, WeChat
from tests.crm_helpers import Sim
from wxmember import create_app

AUTH = {"Authorization": f"Bearer {STAFF_TOKEN}"}


@pytest.fixture
def clocked(make_app, clock):
    """A client of an app whose stores all read the test's ``clock``."""
    return make_app(clock=clock).test_client()


def post_at(client, clock, times, xml):
    """Deliver ``xml`` with the clock at the next of ``times`` (ms)."""
    clock.set(next(times))
    return WeChat(client).post(xml)


@pytest.fixture
def seeded(clocked, clock):
    """Seven records: alice follows and sends five texts, bob follows; createTime 1000…7000."""
    times = iter(range(1000, 100000, 1000))
    post_at(clocked, clock, times, samples.fill(samples.SUBSCRIBE, openid="oAlice", time=1))
    for n in range(5):
        text = samples.fill(samples.TEXT, openid="oAlice", msgid=str(n), time=10 + n)
        post_at(clocked, clock, times, text)
    post_at(clocked, clock, times, samples.fill(samples.SUBSCRIBE, openid="oBob", time=20))
    return clocked


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"Authorization": STAFF_TOKEN}],
    ids=["none", "wrong-token", "no-scheme"],
)
@pytest.mark.parametrize("path", ["/api/logs", "/api/customers/oAlice"])
def test_api_needs_the_bearer_token(client, headers, path):
    response = client.get(path, headers=headers)
    assert response.status_code == 401
    assert response.json["error"] == "unauthorized"


def basic(credentials):
    return "Basic " + base64.b64encode(credentials.encode()).decode()


# Look-alikes of ``Bearer <console.api_token>``: each is refused 401 and writes nothing.
NOT_THE_TOKEN = {
    "basic-with-the-token": f"Basic {STAFF_TOKEN}",
    "basic-user-colon-token": basic(f"staff:{STAFF_TOKEN}"),
    "basic-colon-token": basic(f":{STAFF_TOKEN}"),
    "basic-token-colon": basic(f"{STAFF_TOKEN}:"),
    "basic-token-base64": basic(STAFF_TOKEN),
    "bearer-the-token-in-base64": f"Bearer {base64.b64encode(STAFF_TOKEN.encode()).decode()}",
    "two-spaces": f"Bearer  {STAFF_TOKEN}",
    "tab": f"Bearer\t{STAFF_TOKEN}",
    "no-space": f"Bearer{STAFF_TOKEN}",
    "trailing-space": f"Bearer {STAFF_TOKEN} ",
    "space-inside-the-token": f"Bearer {STAFF_TOKEN[:5]} {STAFF_TOKEN[5:]}",
    "prefix-added": f"Bearer x{STAFF_TOKEN}",
    "suffix-added": f"Bearer {STAFF_TOKEN}x",
    "a-prefix-of-the-token": f"Bearer {STAFF_TOKEN[:-1]}",
    "a-suffix-of-the-token": f"Bearer {STAFF_TOKEN[1:]}",
    "lowercase-bearer-with-a-suffix": f"bearer {STAFF_TOKEN}x",
    "the-token-twice": f"Bearer {STAFF_TOKEN} {STAFF_TOKEN}",
    "then-another-credential": f"Bearer {STAFF_TOKEN}, Basic {basic('a:b')[6:]}",
    "token-type-and-token": f"Token {STAFF_TOKEN}",
    "scheme-only": "Bearer",
    "uppercase-token": f"Bearer {STAFF_TOKEN.upper()}",
}
PURCHASE = {"formId": "AUTH1", "memberID": 16426780, "type": "purchase", "amount": 10}


def every_collection(app):
    database = app.extensions["wxmember"].database
    return {name: database[name].count_documents({}) for name in database.list_collection_names()}


@pytest.mark.parametrize("header", NOT_THE_TOKEN.values(), ids=NOT_THE_TOKEN.keys())
def test_a_look_alike_of_the_bearer_token_is_refused_and_changes_nothing(app, client, header):
    before = every_collection(app)
    response = client.post("/api/transactions", json=PURCHASE, headers={"Authorization": header})
    assert response.status_code == 401
    assert response.json["error"] == "unauthorized"
    assert client.get("/api/logs", headers={"Authorization": header}).status_code == 401
    assert every_collection(app) == before


def test_the_same_purchase_with_the_token_is_applied(app, client):
    """The refusals above are the token's doing: with it, the very request writes."""
    response = client.post("/api/transactions", json=PURCHASE, headers=AUTH)
    assert response.status_code == 200 and response.json["transaction"]["status"] == "applied"
    database = app.extensions["wxmember"].database
    assert database["member/transactions"].count_documents({"_id": "AUTH1"}) == 1


@pytest.mark.parametrize("scheme", ["bearer", "BEARER", "bEaReR"])
def test_the_scheme_name_is_case_insensitive_as_http_says(client, scheme):
    """RFC 7235 2.1 (and RFC 6750): the auth-scheme is case-insensitive; the token is not."""
    good = client.get("/api/logs", headers={"Authorization": f"{scheme} {STAFF_TOKEN}"})
    assert good.status_code == 200
    wrong = client.get("/api/logs", headers={"Authorization": f"{scheme} {STAFF_TOKEN.upper()}"})
    assert wrong.status_code == 401


def test_look_alikes_are_refused_over_real_http_too(app, live_server_for):
    """Over a socket, as a proxy or curl would send them (the server parses the header)."""
    server = live_server_for(app)
    host, port = server.url.split("//")[1].rstrip("/").split(":")
    before = every_collection(app)

    def status(header):
        connection = http.client.HTTPConnection(host, int(port), timeout=10)
        try:
            connection.putrequest("POST", "/api/transactions")
            connection.putheader("Authorization", header)
            connection.putheader("Content-Type", "application/json")
            body = json.dumps(PURCHASE).encode()
            connection.putheader("Content-Length", str(len(body)))
            connection.endheaders(body)
            return connection.getresponse().status
        finally:
            connection.close()

    assert {name: status(header) for name, header in NOT_THE_TOKEN.items()} == dict.fromkeys(
        NOT_THE_TOKEN, 401
    )
    assert every_collection(app) == before
    assert status(AUTH["Authorization"]) == 200


def test_api_refuses_everyone_when_no_token_is_configured(make_app):
    client = make_app(console={"api_token": ""}).test_client()
    assert client.get("/api/logs", headers={"Authorization": "Bearer "}).status_code == 401


def test_logs_newest_first_paged_with_cursor(seeded):
    seen, cursor, pages = [], None, 0
    while True:
        query = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        body = seeded.get("/api/logs", query_string=query, headers=AUTH).json
        seen += [item["createTime"] for item in body["items"]]
        pages, cursor = pages + 1, body["next"]
        if cursor is None:
            break
    assert seen == [7000, 6000, 5000, 4000, 3000, 2000, 1000]
    assert pages == 3


def test_cursor_is_stable_when_records_share_a_millisecond(clocked, clock):
    clock.set(5000)
    wechat = WeChat(clocked)
    for n in range(5):
        wechat.post(samples.fill(samples.TEXT, msgid=str(n)))
    ids = []
    cursor = None
    for _ in range(5):
        query = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        body = clocked.get("/api/logs", query_string=query, headers=AUTH).json
        ids += [item["_id"] for item in body["items"]]
        cursor = body["next"]
        if not cursor:
            break
    assert len(ids) == 5 and len(set(ids)) == 5


def test_pages_with_filters_and_shared_milliseconds_add_up_to_the_whole(clocked, clock):
    client = clocked
    times = iter([1000, 2000, 2000, 2000, 3000, 3000, 4000, 5000, 5000, 6000] * 2)
    for n in range(20):
        post_at(client, clock, times, samples.fill(samples.TEXT, openid=f"o{n % 2}", msgid=str(n)))

    def pages(limit, **query):
        items, cursor = [], None
        while True:
            extra = {"cursor": cursor} if cursor else {}
            body = client.get(
                "/api/logs", query_string={**query, "limit": limit, **extra}, headers=AUTH
            ).json
            items += [item["_id"] for item in body["items"]]
            cursor = body["next"]
            if not cursor:
                return items

    for query in (
        {},
        {"wxid": "o0"},
        {"since": 2000, "until": 5000},
        {"wxid": "o1", "until": 5000},
    ):
        whole = pages(500, **query)
        assert whole and len(set(whole)) == len(whole)
        for limit in (1, 2, 3):
            assert pages(limit, **query) == whole, (query, limit)


def test_logs_filter_by_wxid_action_and_time(seeded):
    def times(**query):
        body = seeded.get("/api/logs", query_string=query, headers=AUTH).json
        return [item["createTime"] for item in body["items"]]

    assert times(wxid="oBob") == [7000]
    assert times(action="subscribe") == [7000, 1000]
    assert times(wxid="oAlice", action="text", since=3000, until=5000) == [4000, 3000]
    assert times(since="1970-01-01T08:00:05") == [7000, 6000, 5000]  # ISO, Asia/Shanghai


def test_log_items_carry_the_record_fields(seeded):
    [item] = seeded.get("/api/logs", query_string={"wxid": "oBob"}, headers=AUTH).json["items"]
    assert item["wxid"] == "oBob" and item["action"] == "subscribe"
    assert item["data"]["Event"] == "subscribe"
    assert item["reply"]  # the welcome message that was sent


@pytest.mark.parametrize(
    ("query", "word"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 501}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"since": "yesterday"}, "since"),
        ({"until": "2026-13-45"}, "until"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"cursor": "WzEsICJ4Il0"}, "cursor"),  # valid base64 JSON, not an ObjectId
    ],
)
def test_bad_query_is_400_with_a_message(client, query, word):
    response = client.get("/api/logs", query_string=query, headers=AUTH)
    assert response.status_code == 400
    assert response.json["error"] == "invalid_query"
    assert word in response.json["message"]


def test_customer_document(seeded):
    body = seeded.get("/api/customers/oAlice", headers=AUTH).json
    assert body["wechatid"] == "oAlice"
    assert body["messageCount"] == 5 and body["isFollow"] is True
    assert isinstance(body["_id"], str)


def test_unknown_customer_is_404(client):
    response = client.get("/api/customers/oNobody", headers=AUTH)
    assert response.status_code == 404
    assert response.json["error"] == "not_found"


def test_healthz_reports_mongo_and_mode(client):
    body = client.get("/healthz").json
    assert body["ok"] is True and body["mongo"] == "ok"
    assert body["wechat"]["mode"] == "plain"
    assert body["crm"] == {"base_url": "simulator", "ok": True}


def test_healthz_shows_a_down_crm_but_stays_up(app, client):
    Sim(app).faults(down=True)
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json["crm"]["ok"] is False


def test_embedded_simulator_trial_routes_answer_on_the_app(client):
    members = client.get("/sim/members").json
    assert len(members) == 200 and {"MOBILE_TELEPHONE_NO", "MEM_CARD_NO"} <= set(members[0])
    assert client.get("/sim/promotions").json[0]["PROMOTION_CODE"]


def test_healthz_is_503_when_mongo_is_down(app):
    """The app's services with their database on a closed port: a real connection failure."""
    with socket.socket() as probe:  # a port of this machine that nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    down = pymongo.MongoClient(f"mongodb://127.0.0.1:{port}/", serverSelectionTimeoutMS=300)
    services = dataclasses.replace(app.extensions["wxmember"], database=down["wxmember"])
    try:
        response = create_app(services=services).test_client().get("/healthz")
    finally:
        down.close()
    assert response.status_code == 503
    assert (response.json["ok"], response.json["mongo"]) == (
        False,
        "error: ServerSelectionTimeoutError",
    )
    assert app.test_client().get("/healthz").status_code == 200  # the same app, its database up

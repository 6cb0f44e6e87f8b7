"""Behaviour that needs a real server: on the embedded engine, or on MongoDB itself.

These tests never run on mongomock. Set WXMEMBER_TEST_MONGO_URI to run them on a
MongoDB server (a replica set: transactions) instead of the engine. Each test gets
a database of its own, dropped afterwards.
"""

import os
import threading

import pymongo
import pytest
from pymongo.errors import WriteError

from tests import samples
from tests.conftest import STAFF_TOKEN, WELCOME, WeChat, write_config
from wxmember import create_app
from wxmember.config import load_config
from wxmember.crm.simulator import create_simulator
from wxmember.httpserver import BackgroundServer

MONGO_URI = os.environ.get("WXMEMBER_TEST_MONGO_URI")

pytestmark = pytest.mark.mongo


@pytest.fixture
def real_apps(tmp_path, test_database):
    """Two apps with their own MongoClient on one fresh database: two 'processes'."""
    crm = BackgroundServer(create_simulator(members=50)).start()
    path = write_config(
        tmp_path,
        mongo={"uri": MONGO_URI} if MONGO_URI else {},
        console={"session_secret": "test-secret"},
        crm={"base_url": crm.url},  # one CRM for both, as in production
    )
    apps = [create_app(config=load_config(path, environ={})) for _ in range(2)]
    yield apps
    for app in apps:
        app.extensions["wxmember"].close()
    crm.stop()
    if MONGO_URI:
        client = pymongo.MongoClient(MONGO_URI)
        client.drop_database(test_database["database"])
        client.close()


def test_follow_and_text_on_real_mongodb(real_apps):
    app = real_apps[0]
    wechat = WeChat(app.test_client())
    assert wechat.reply(wechat.post(samples.fill(samples.SUBSCRIBE)))["Content"] == WELCOME
    wechat.post(samples.fill(samples.TEXT, time=1700000001))
    database = app.extensions["wxmember"].database
    customer = database["welab/customers"].find_one({"wechatid": "oUser0001"})
    assert customer["isFollow"] is True and customer["messageCount"] == 1
    assert database["lavico/user/logs"].count_documents({}) == 2
    assert database["welab/feeds"].count_documents({}) == 1


def test_concurrent_deliveries_across_two_processes_are_handled_once(real_apps):
    xml = samples.fill(samples.TEXT, content="积分")
    barrier = threading.Barrier(3)
    responses = []

    def deliver(app):
        client = app.test_client()
        barrier.wait()
        responses.append(WeChat(client).post(xml))

    threads = [threading.Thread(target=deliver, args=(real_apps[i % 2],)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    database = real_apps[0].extensions["wxmember"].database
    assert database["lavico/user/logs"].count_documents({}) == 1
    assert database["welab/customers"].find_one()["messageCount"] == 1
    assert [r.status_code for r in responses] == [200, 200, 200]


def test_logs_validator_rejects_a_record_missing_a_field(real_apps):
    logs = real_apps[0].extensions["wxmember"].database["lavico/user/logs"]
    with pytest.raises(WriteError):
        logs.insert_one({"createTime": 1, "wxid": "o", "action": "x"})  # no data
    with pytest.raises(WriteError):
        logs.insert_one({"createTime": 1, "wxid": "o", "action": "x", "data": "text"})


def test_delivery_ttl_and_unique_indexes_exist(real_apps):
    database = real_apps[0].extensions["wxmember"].database
    deliveries = database["wxmember/deliveries"].index_information()
    assert any(index.get("expireAfterSeconds") == 0 for index in deliveries.values())
    customers = database["welab/customers"].index_information()
    assert any(index.get("unique") for index in customers.values())


def test_log_query_pages_on_real_mongodb(real_apps):
    app = real_apps[0]
    wechat = WeChat(app.test_client())
    for n in range(5):
        wechat.post(samples.fill(samples.TEXT, msgid=str(n), time=1700000000 + n))
    client = app.test_client()
    auth = {"Authorization": f"Bearer {STAFF_TOKEN}"}
    first = client.get("/api/logs", query_string={"limit": 3}, headers=auth).json
    second = client.get(
        "/api/logs", query_string={"limit": 3, "cursor": first["next"]}, headers=auth
    ).json
    assert len(first["items"]) == 3 and len(second["items"]) == 2 and second["next"] is None
    ids = [item["_id"] for item in first["items"] + second["items"]]
    assert len(set(ids)) == 5


def test_ledger_concurrent_spends_and_crash_repair_on_real_mongodb(real_apps):
    from wxmember.members.ledger import Entry, InsufficientBalance

    ledger = real_apps[0].extensions["wxmember"].members.ledger
    other = real_apps[1].extensions["wxmember"].members.ledger  # a second "process"
    ledger.post("points", 7, 100, Entry("S", "t", "s"), "seed")
    outcomes = []

    def spend(n):
        try:
            (ledger if n % 2 else other).post("points", 7, -1, Entry(f"S{n}", "t", "s"), f"s{n}")
            outcomes.append("ok")
        except InsufficientBalance:
            outcomes.append("refused")

    threads = [threading.Thread(target=spend, args=(n,)) for n in range(200)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert outcomes.count("ok") == 100 and ledger.balance("points", 7) == 0
    assert ledger.audit() == []


def test_job_lease_is_exclusive_across_two_processes(real_apps):
    from jobs.lease import Lease

    first = Lease(real_apps[0].extensions["wxmember"].database, "members", "host-a")
    second = Lease(real_apps[1].extensions["wxmember"].database, "members", "host-b")
    assert first.acquire() is True
    assert second.acquire() is False
    first.release()
    assert second.acquire() is True


def test_stock_is_taken_in_the_form_every_engine_accepts(real_apps):
    """``update_one`` + ``$elemMatch`` + positional ``$``: MongoDB and the embedded engine
    agree on it, while the engine refuses positional ``$`` inside ``find_one_and_update``
    and mongomock would change the wrong element there. The shake's stock uses this form."""
    prizes = real_apps[0].extensions["wxmember"].database["shake/activities"]
    prizes.insert_one(
        {"_id": "A", "prizes": [{"code": "X", "stock": 5}, {"code": "Y", "stock": 1}]}
    )
    in_stock = {"prizes": {"$elemMatch": {"code": "Y", "stock": {"$gt": 0}}}}
    taken = [
        prizes.update_one({"_id": "A", **in_stock}, {"$inc": {"prizes.$.stock": -1}}) for _ in "12"
    ]
    assert [t.modified_count for t in taken] == [1, 0]  # the last unit once, then none
    assert prizes.find_one({"_id": "A"})["prizes"] == [
        {"code": "X", "stock": 5},
        {"code": "Y", "stock": 0},
    ]

"""Each WeChat delivery is handled once, however often and however concurrently it arrives."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest
import requests
from pymongo.errors import AutoReconnect

from tests import samples
from tests.conftest import KEYWORDS, TOKEN, WELCOME, WeChat, database_of
from wxmember.events.dispatch import Dispatcher
from wxmember.wechat import message as wechat_message
from wxmember.wechat import simulator


def _post_concurrently(url, xml, copies):
    """Deliver ``xml`` ``copies`` times at once, each signed afresh like WeChat's retries."""
    barrier = threading.Barrier(copies)

    def deliver(_):
        query, body = simulator.signed_request(xml, TOKEN)
        barrier.wait()
        return requests.post(f"{url}/wechat", params=query, data=body.encode(), timeout=10)

    with ThreadPoolExecutor(copies) as pool:
        return list(pool.map(deliver, range(copies)))


@pytest.mark.mongo  # races need a real server; mongomock is not atomic
def test_three_concurrent_deliveries_make_one_record_and_one_answer(app, live_server):
    xml = samples.fill(samples.TEXT, content="积分", msgid="777")

    responses = _post_concurrently(live_server.url, xml, 3)

    database = database_of(app)
    assert database["lavico/user/logs"].count_documents({}) == 1
    assert database["welab/customers"].find_one({"wechatid": "oUser0001"})["messageCount"] == 1
    replies = [simulator.open_reply(r.text, TOKEN).get("Content") for r in responses]
    assert replies == [KEYWORDS["积分"]] * 3  # every retry gets the first delivery's answer


@pytest.mark.mongo  # races need a real server; mongomock is not atomic
def test_three_concurrent_follows_make_one_follower_and_one_feed(app, live_server):
    _post_concurrently(live_server.url, samples.fill(samples.SUBSCRIBE), 3)

    database = database_of(app)
    assert database["welab/customers"].count_documents({}) == 1
    assert database["welab/feeds"].count_documents({}) == 1
    assert database["lavico/user/logs"].count_documents({}) == 1


def test_sequential_retry_answers_the_same_reply(app, client):
    wechat = WeChat(client)
    xml = samples.fill(samples.SUBSCRIBE)
    first, retry = wechat.reply(wechat.post(xml)), wechat.reply(wechat.post(xml))
    assert first["Content"] == retry["Content"]
    assert database_of(app)["lavico/user/logs"].count_documents({}) == 1


def test_two_users_sharing_a_msgid_are_both_handled(app, client):
    wechat = WeChat(client)
    wechat.post(samples.fill(samples.TEXT, openid="oAlice", msgid="42"))
    wechat.post(samples.fill(samples.TEXT, openid="oBob", msgid="42"))
    assert sorted(database_of(app)["lavico/user/logs"].distinct("wxid")) == ["oAlice", "oBob"]


def test_one_users_two_events_in_the_same_second_are_both_handled(app, client):
    wechat = WeChat(client)
    wechat.post(samples.fill(samples.CLICK, key="积分"))
    wechat.post(samples.fill(samples.CLICK, key="门店"))
    wechat.post(samples.fill(samples.VIEW))
    actions = [log["action"] for log in database_of(app)["lavico/user/logs"].find()]
    assert sorted(actions) == ["click", "click", "view"]


def test_two_card_codes_in_one_second_are_both_handled(app, client):
    wechat = WeChat(client)
    wechat.post(samples.fill(samples.USER_GET_CARD, code="111111111111"))
    wechat.post(samples.fill(samples.USER_GET_CARD, code="222222222222"))
    assert database_of(app)["lavico/user/logs"].count_documents({}) == 2


def test_retry_of_a_failed_delivery_answers_success_without_waiting(app, client, monkeypatch):
    dispatcher = app.extensions["wxmember"].dispatcher
    dispatcher.retry_wait_s = 30  # a retry must not wait for a first delivery that failed
    monkeypatch.setattr(
        app.extensions["wxmember"].records.customers,
        "record_message",
        lambda openid: 1 / 0,
    )
    wechat = WeChat(client)
    xml = samples.fill(samples.TEXT)
    assert wechat.post(xml).get_data(as_text=True) == "success"

    started = time.monotonic()
    assert wechat.post(xml).get_data(as_text=True) == "success"
    assert time.monotonic() - started < 5
    assert database_of(app)["lavico/user/logs"].count_documents({}) == 0


def fail_once(monkeypatch, target, name, error):
    """``target.name`` raises ``error`` the first time it is called, then works."""
    real, failed = getattr(target, name), []

    def once(*args, **kwargs):
        if not failed:
            failed.append(error)
            raise error
        return real(*args, **kwargs)

    monkeypatch.setattr(target, name, once)


def a_retry_handles_what_the_first_delivery_could_not(app, client):
    wechat = WeChat(client)
    xml = samples.fill(samples.TEXT, content="积分规则")
    assert wechat.post(xml).status_code == 500  # not "success": WeChat delivers it again
    assert wechat.reply(wechat.post(xml))["Content"] == KEYWORDS["积分规则"]
    assert database_of(app)["lavico/user/logs"].count_documents({}) == 1


def test_a_record_that_could_not_be_written_is_written_by_the_retry(app, client, monkeypatch):
    logs = app.extensions["wxmember"].records.logs
    fail_once(monkeypatch, logs, "append", RuntimeError("the log store is unreachable"))
    a_retry_handles_what_the_first_delivery_could_not(app, client)


def test_a_claim_left_by_a_dead_process_is_taken_over_by_the_retry(app, client):
    wechat = WeChat(client)
    xml = samples.fill(samples.TEXT, content="积分规则")
    app.extensions["wxmember"].dispatcher.retry_wait_s = 0.2
    key = wechat_message.parse(xml).dedup_key
    long_ago = datetime.now(timezone.utc) - timedelta(seconds=30)
    database_of(app)["wxmember/deliveries"].insert_one(  # claimed, then the process died
        {"_id": key, "claimedAt": long_ago, "expireAt": long_ago + timedelta(hours=1)}
    )

    assert wechat.reply(wechat.post(xml))["Content"] == KEYWORDS["积分规则"]
    assert database_of(app)["lavico/user/logs"].count_documents({"msgKey": key}) == 1


def test_delivery_claims_expire_by_ttl_index(app):
    indexes = database_of(app)["wxmember/deliveries"].index_information()
    [ttl] = [index for index in indexes.values() if "expireAfterSeconds" in index]
    assert ttl["key"] == [("expireAt", 1)]
    claim = database_of(app)["wxmember/deliveries"]
    WeChat(app.test_client()).post(samples.fill(samples.TEXT))
    [doc] = claim.find()
    assert (doc["expireAt"] - doc["claimedAt"]).total_seconds() == 600


class ReplayedInserts:
    """A collection whose ``insert_one`` reaches the server twice: the driver retrying a write
    the engine applied just before it was killed (its retry records die with it), so the
    retry meets the write's own ``_id`` (DuplicateKeyError)."""

    def __init__(self, collection):
        self.collection = collection

    def insert_one(self, document, *args, **kwargs):
        self.collection.insert_one(document, *args, **kwargs)
        return self.collection.insert_one(document, *args, **kwargs)

    def __getattr__(self, name):
        return getattr(self.collection, name)


def test_a_delivery_whose_writes_the_driver_replayed_is_handled_and_recorded(app, client):
    records = app.extensions["wxmember"].records
    for store in (records.deliveries, records.logs, records.feeds):
        store.collection = ReplayedInserts(store.collection)
    wechat = WeChat(client)

    assert wechat.reply(wechat.post(samples.fill(samples.SUBSCRIBE)))["Content"] == WELCOME

    database = database_of(app)
    assert database["lavico/user/logs"].count_documents({}) == 1
    assert database["welab/feeds"].count_documents({}) == 1


def test_a_database_failure_inside_the_handler_is_handled_by_the_retry(app, client, monkeypatch):
    customers = app.extensions["wxmember"].records.customers
    fail_once(monkeypatch, customers, "record_message", AutoReconnect("connection closed"))
    a_retry_handles_what_the_first_delivery_could_not(app, client)


class AnswerLost:
    """A collection whose next ``insert_one`` is applied but answered by a broken connection:
    the engine journaled the write and was killed (``kill -9``) before it replied."""

    def __init__(self, collection):
        self.collection = collection
        self.lost = False

    def insert_one(self, document, *args, **kwargs):
        result = self.collection.insert_one(document, *args, **kwargs)
        if not self.lost:
            self.lost = True
            raise AutoReconnect("connection closed")
        return result

    def __getattr__(self, name):
        return getattr(self.collection, name)


def a_quick_retry_is_refused_until_the_claim_is_stale(app, clock):
    """The first delivery died with the engine (500) and left its claim, unmarked: a retry
    while the claim is fresh is not answered 200 (nothing recorded the message), and a
    retry once it is stale handles the message and records it once."""
    dispatcher = app.extensions["wxmember"].dispatcher
    dispatcher.retry_wait_s = 0.05
    wechat = WeChat(app.test_client())
    xml = samples.fill(samples.TEXT, content="积分规则")
    key = wechat_message.parse(xml).dedup_key

    assert wechat.post(xml).status_code == 500
    assert database_of(app)["wxmember/deliveries"].find_one({"_id": key}) is not None
    retry = wechat.post(xml)  # WeChat's retry, the engine back, the claim a second old
    assert retry.status_code == 503, retry.data  # not "success": WeChat delivers it again
    assert database_of(app)["lavico/user/logs"].count_documents({"msgKey": key}) == 0

    clock.advance(seconds=dispatcher.stale_claim_s + 1)
    assert wechat.reply(wechat.post(xml))["Content"] == KEYWORDS["积分规则"]
    assert wechat.reply(wechat.post(xml))["Content"] == KEYWORDS["积分规则"]  # repeated
    assert database_of(app)["lavico/user/logs"].count_documents({"msgKey": key}) == 1


def test_a_claim_whose_answer_was_lost_is_not_answered_success_by_a_quick_retry(make_app, clock):
    app = make_app(clock=clock)
    deliveries = app.extensions["wxmember"].records.deliveries
    deliveries.collection = AnswerLost(deliveries.collection)
    a_quick_retry_is_refused_until_the_claim_is_stale(app, clock)


def test_a_record_lost_with_the_engine_is_not_answered_success_by_a_quick_retry(
    make_app, clock, monkeypatch
):
    app = make_app(clock=clock)
    records = app.extensions["wxmember"].records
    # the engine dies after the claim: the record, then the failure mark, cannot be written
    fail_once(monkeypatch, records.logs, "append", AutoReconnect("connection closed"))
    fail_once(monkeypatch, records.deliveries, "mark_failed", AutoReconnect("connection refused"))
    a_quick_retry_is_refused_until_the_claim_is_stale(app, clock)


def test_a_handler_asking_for_a_dependency_nobody_provides_stops_the_start(app):
    services = app.extensions["wxmember"]

    def on_text(message, customers, coupons):  # "coupons" is not provided
        raise AssertionError("never called")

    with pytest.raises(TypeError, match=r"on_text asks for coupons"):
        Dispatcher({"text": on_text}, on_text, services.dispatcher.dependencies)

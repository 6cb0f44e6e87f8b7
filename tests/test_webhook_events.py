"""Every event type, in WeChat's documented XML, in plain and in safe mode."""

import time

import pytest

from tests import samples
from tests.conftest import KEYWORDS, WELCOME, database_of


def logs_of(app, wxid="oUser0001"):
    return list(database_of(app)["lavico/user/logs"].find({"wxid": wxid}).sort("createTime", 1))


def customer_of(app, wxid="oUser0001"):
    return database_of(app)["welab/customers"].find_one({"wechatid": wxid})


def test_subscribe_creates_follower_feed_log_and_welcomes(wechat_app, wechat):
    before = int(time.time())
    response = wechat.post(samples.fill(samples.SUBSCRIBE))

    reply = wechat.reply(response)
    assert reply["Content"] == WELCOME
    assert reply["ToUserName"] == "oUser0001" and reply["FromUserName"] == "gh_toUser"
    customer = customer_of(wechat_app)
    assert customer["isFollow"] is True
    assert before <= customer["followTime"] <= int(time.time())  # seconds, not ms
    assert customer["lastModified"] > 10**12  # milliseconds
    assert customer["messageCount"] == 0
    [feed] = database_of(wechat_app)["welab/feeds"].find({"wxid": "oUser0001"})
    assert feed["action"] == "follow" and "关注" in feed["content"]
    [log] = logs_of(wechat_app)
    assert log["action"] == "subscribe" and log["data"]["newFollower"] is True
    assert isinstance(log["createTime"], int) and log["createTime"] > 10**12


def test_subscribe_with_qrscene_keeps_the_scene(wechat_app, wechat):
    wechat.post(samples.fill(samples.SUBSCRIBE_QRSCENE))

    assert customer_of(wechat_app)["scene"] == "123123"
    [log] = logs_of(wechat_app)
    assert log["action"] == "subscribe"
    assert log["data"]["scene"] == "123123"
    assert log["data"]["EventKey"] == "qrscene_123123"


def test_refollow_after_unsubscribe_is_not_a_new_follower(wechat_app, wechat):
    wechat.post(samples.fill(samples.SUBSCRIBE, time=1700000000))
    wechat.post(samples.fill(samples.UNSUBSCRIBE, time=1700000100))
    customer = customer_of(wechat_app)
    assert customer["isFollow"] is False
    assert customer["unfollowTime"] > 10**12

    wechat.post(samples.fill(samples.SUBSCRIBE, time=1700000200))

    assert customer_of(wechat_app)["isFollow"] is True
    assert database_of(wechat_app)["welab/feeds"].count_documents({}) == 1
    assert [log["action"] for log in logs_of(wechat_app)] == [
        "subscribe",
        "unsubscribe",
        "subscribe",
    ]
    assert logs_of(wechat_app)[-1]["data"]["newFollower"] is False


def test_unsubscribe_answers_success(wechat, wechat_app):
    response = wechat.post(samples.fill(samples.UNSUBSCRIBE))
    assert response.get_data(as_text=True) == "success"
    assert customer_of(wechat_app)["isFollow"] is False


def test_text_counts_messages_and_answers_keywords(wechat_app, wechat):
    first = wechat.post(samples.fill(samples.TEXT, content="积分", msgid="1"))
    second = wechat.post(samples.fill(samples.TEXT, content="请问积分规则是什么", msgid="2"))
    third = wechat.post(samples.fill(samples.TEXT, content="随便说说", msgid="3"))

    assert wechat.reply(first)["Content"] == KEYWORDS["积分"]
    assert wechat.reply(second)["Content"] == KEYWORDS["积分规则"]  # longest keyword wins
    assert third.get_data(as_text=True) == "success"
    customer = customer_of(wechat_app)
    assert customer["messageCount"] == 3
    assert customer["lastMessageTime"] > 10**12
    assert [log["data"]["Content"] for log in logs_of(wechat_app)] == [
        "积分",
        "请问积分规则是什么",
        "随便说说",
    ]


def test_image_message_is_counted_and_logged(wechat_app, wechat):
    response = wechat.post(samples.fill(samples.IMAGE))
    assert response.get_data(as_text=True) == "success"
    assert customer_of(wechat_app)["messageCount"] == 1
    assert logs_of(wechat_app)[0]["action"] == "image"


def test_scan_logs_the_scene(wechat_app, wechat):
    wechat.post(samples.fill(samples.SCAN))
    [log] = logs_of(wechat_app)
    assert (log["action"], log["data"]["scene"]) == ("scan", "SCENE_VALUE")
    assert customer_of(wechat_app) is not None


def test_click_answers_the_key_as_keyword(wechat_app, wechat):
    response = wechat.post(samples.fill(samples.CLICK))
    assert wechat.reply(response)["Content"] == "今日推荐"
    assert logs_of(wechat_app)[0]["data"]["key"] == "V1001_TODAY_MUSIC"


def test_view_logs_the_url(wechat_app, wechat):
    wechat.post(samples.fill(samples.VIEW))
    [log] = logs_of(wechat_app)
    assert (log["action"], log["data"]["url"]) == ("view", "www.qq.com")


def test_location_is_kept_on_the_customer(wechat_app, wechat):
    wechat.post(samples.fill(samples.LOCATION))
    location = customer_of(wechat_app)["location"]
    assert location["latitude"] == pytest.approx(23.137466)
    assert location["longitude"] == pytest.approx(113.352425)
    assert logs_of(wechat_app)[0]["action"] == "location"


@pytest.mark.parametrize(
    ("template", "around"),
    [(samples.SHAKE, ["2222", "3333"]), (samples.SHAKE_ONE_BEACON, ["2222"])],
    ids=["two-beacons", "one-beacon"],
)
def test_shake_records_chosen_and_around_beacons(wechat_app, wechat, template, around):
    response = wechat.post(samples.fill(template))
    assert response.status_code == 200
    [log] = logs_of(wechat_app)
    assert log["action"] == "shake"
    assert log["data"]["chosenBeacon"]["Major"] == "1111"
    assert [beacon["Major"] for beacon in log["data"]["aroundBeacons"]] == around


@pytest.mark.parametrize(
    ("template", "event"),
    [
        (samples.USER_GET_CARD, "user_get_card"),
        (samples.USER_DEL_CARD, "user_del_card"),
        (samples.USER_CONSUME_CARD, "user_consume_card"),
        (samples.SUBMIT_MEMBERCARD_USER_INFO, "submit_membercard_user_info"),
        (samples.UPDATE_MEMBER_CARD, "update_member_card"),
    ],
)
def test_member_card_events_are_logged_with_card(wechat_app, wechat, template, event):
    response = wechat.post(samples.fill(template, code="998877665544"))
    assert response.get_data(as_text=True) == "success"
    [log] = logs_of(wechat_app)
    assert log["action"] == event
    assert log["data"]["card"]["UserCardCode"] == "998877665544"
    assert log["data"]["card"]["CardId"] == "po2VNuCuRo-8sxxxxxxxxxxx"


def test_unknown_event_is_logged_and_answered_success(wechat_app, wechat):
    response = wechat.post(samples.fill(samples.TEMPLATE_SEND_JOB_FINISH))
    assert response.get_data(as_text=True) == "success"
    [log] = logs_of(wechat_app)
    assert log["action"] == "templatesendjobfinish"
    assert log["data"]["Status"] == "success" and log["data"]["unhandled"] is True


def test_every_log_record_has_the_required_fields(wechat_app, wechat):
    for index, template in enumerate([samples.SUBSCRIBE, samples.CLICK, samples.TEXT]):
        wechat.post(samples.fill(template, time=1700000000 + index))
    for log in logs_of(wechat_app):
        assert isinstance(log["createTime"], int)
        assert log["wxid"] == "oUser0001"
        assert isinstance(log["action"], str) and log["action"]
        assert isinstance(log["data"], dict)

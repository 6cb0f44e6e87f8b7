"""Follower profiles come from WeChat's user/info API without holding up the reply."""

import logging
import time

import pytest

from tests import samples
from tests.conftest import WELCOME, WeChat, database_of


@pytest.fixture
def profile_app(make_app, wechat_api):
    return make_app(wechat={"appsecret": "app-secret", "api_base_url": wechat_api.base_url})


def _wait_for_customer(app, openid, field, seconds=10):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        customer = database_of(app)["welab/customers"].find_one({"wechatid": openid})
        if customer and field in customer:
            return customer
        time.sleep(0.02)
    raise AssertionError(f"{field} never set on {openid}")


def test_follow_fills_the_profile_from_wechat(profile_app, wechat_api):
    WeChat(profile_app.test_client()).post(samples.fill(samples.SUBSCRIBE, openid="oProfile"))

    customer = _wait_for_customer(profile_app, "oProfile", "nickname")
    assert customer["nickname"] == "小蓝"
    assert customer["gender"] == "female"
    assert (customer["city"], customer["province"]) == ("广州", "广东")
    assert customer["headimgurl"].startswith("http://thirdwx.qlogo.cn/")
    assert wechat_api.info_requests == ["oProfile"]


def test_reply_does_not_wait_for_a_slow_user_info_api(profile_app, wechat_api):
    wechat_api.release.clear()  # user/info hangs until released
    response = WeChat(profile_app.test_client()).post(samples.fill(samples.SUBSCRIBE))

    # The reply is already here while WeChat's API is still holding the request.
    assert WeChat(None).reply(response)["Content"] == WELCOME
    assert wechat_api.info_requests == []
    wechat_api.release.set()
    assert _wait_for_customer(profile_app, "oUser0001", "nickname")["nickname"] == "小蓝"


def test_access_token_is_shared_through_mongodb(profile_app, wechat_api):
    wechat = WeChat(profile_app.test_client())
    for n in range(3):
        wechat.post(samples.fill(samples.SUBSCRIBE, openid=f"oShare{n}"))
        _wait_for_customer(profile_app, f"oShare{n}", "nickname")
    assert wechat_api.token_requests == 1
    stored = database_of(profile_app)["wxmember/kv"].find_one()
    assert stored["value"] == "ACCESS_TOKEN"


def test_failed_user_info_keeps_the_follower_and_logs_a_masked_warning(
    profile_app, wechat_api, caplog
):
    wechat_api.fail = True
    with caplog.at_level(logging.WARNING):
        response = WeChat(profile_app.test_client()).post(
            samples.fill(samples.SUBSCRIBE, openid="oSecretOpenid1234")
        )
        deadline = time.monotonic() + 10
        while not any("profile fetch failed" in r.getMessage() for r in caplog.records):
            assert time.monotonic() < deadline
            time.sleep(0.02)
    assert response.status_code == 200
    customer = database_of(profile_app)["welab/customers"].find_one()
    assert customer["isFollow"] is True and "nickname" not in customer
    assert "oSecretOpenid1234" not in caplog.text


def test_unreachable_wechat_api_does_not_break_the_follow(make_app):
    app = make_app(
        wechat={"appsecret": "s", "api_base_url": "http://127.0.0.1:9/", "api_timeout_s": 1}
    )
    response = WeChat(app.test_client()).post(samples.fill(samples.SUBSCRIBE))
    assert WeChat(None).reply(response)["Content"] == WELCOME
    app.extensions["wxmember"].background.shutdown()
    assert database_of(app)["welab/customers"].find_one()["isFollow"] is True

"""Binding from WeChat's member-card activation form (submit_membercard_user_info)."""

import pytest

from tests import samples
from tests.conftest import WeChat, database_of
from tests.crm_helpers import Sim


@pytest.fixture
def app(make_app, wechat_api):
    return make_app(wechat={"appsecret": "app-secret", "api_base_url": wechat_api.base_url})


def activate(app, code, openid="oUser0001"):
    xml = samples.fill(samples.SUBMIT_MEMBERCARD_USER_INFO, openid=openid, code=code)
    response = WeChat(app.test_client()).post(xml)
    app.extensions["wxmember"].background.shutdown()  # wait for the background binding
    return response


def test_activation_of_a_mobile_not_verified_on_the_card_asks_for_the_page(app, wechat_api):
    card = Sim(app).a_member(verified=False)  # the CRM wants the card number for this mobile
    wechat_api.card_forms["CODE1"] = {"USER_FORM_INFO_FLAG_MOBILE": card["MOBILE_TELEPHONE_NO"]}

    response = activate(app, "CODE1")

    assert response.get_data(as_text=True) == "success"
    saved = database_of(app)["welab/customers"].find_one({"wechatid": "oUser0001"})
    assert not saved.get("isRegister")
    failed = database_of(app)["lavico/user/logs"].find_one({"action": "bind_failed"})
    assert failed["data"]["reason"] == "card_required" and "卡号" in failed["data"]["message"]
    assert wechat_api.activated == []


def test_activation_of_a_verified_mobile_binds(app, wechat_api):
    sim = Sim(app)
    card = sim.a_member(verified=True)
    wechat_api.card_forms["CODE2"] = {"USER_FORM_INFO_FLAG_MOBILE": card["MOBILE_TELEPHONE_NO"]}

    activate(app, "CODE2")

    saved = database_of(app)["welab/customers"].find_one({"wechatid": "oUser0001"})
    assert saved["isRegister"] is True
    assert saved["HaiLanMemberInfo"]["memberID"] == card["MEMBER_ID"]
    assert sim.member(card["MEMBER_ID"])["WX_OPENID"] == "oUser0001"
    assert wechat_api.activated == [(card["MEM_CARD_NO"], "CODE2")]


def test_activation_with_a_new_mobile_opens_a_card(app, wechat_api):
    wechat_api.card_forms["CODE3"] = {
        "USER_FORM_INFO_FLAG_MOBILE": "13500000003",
        "USER_FORM_INFO_FLAG_NAME": "周新客",
    }
    activate(app, "CODE3")
    saved = database_of(app)["welab/customers"].find_one({"wechatid": "oUser0001"})
    assert saved["isRegister"] is True and saved["HaiLanMemberInfo"]["type"] == 1


def test_activation_form_wechat_cannot_give_is_logged(app):
    activate(app, "UNKNOWN")
    failed = database_of(app)["lavico/user/logs"].find_one({"action": "bind_failed"})
    assert failed["data"]["reason"] == "wechat_unavailable"


def test_without_appsecret_activation_is_recorded_not_attempted(make_app):
    app = make_app()
    activate(app, "CODE4")
    log = database_of(app)["lavico/user/logs"].find_one({"action": "submit_membercard_user_info"})
    assert log["data"]["activation"] == "needs wechat.appsecret"

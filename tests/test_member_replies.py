"""Keyword replies that know the member: signed XML into the app (plain and safe mode), the
answer WeChat would show."""

import pytest

from tests import samples
from tests.conftest import KEYWORDS, STAFF_TOKEN, WeChat
from tests.crm_helpers import Member, Sim
from wxmember.members.reply import is_center_request, is_coupon_request, is_member_query

SITE = "https://wx.example.com"
AUTH = {"Authorization": f"Bearer {STAFF_TOKEN}"}


@pytest.fixture
def reply_app(make_app, mode):
    return make_app(safe=mode == "safe", member={"site_url": SITE})


@pytest.fixture
def chat(reply_app, mode):
    wechat = WeChat(reply_app.test_client(), safe=mode == "safe")
    sent = iter(range(1000, 2000))

    def say(content, openid="oUser0001"):
        xml = samples.fill(samples.TEXT, openid=openid, content=content, msgid=str(next(sent)))
        return wechat.reply(wechat.post(xml)).get("Content")

    def click(key, openid="oUser0001"):
        xml = samples.fill(samples.CLICK, openid=openid, key=key, time=1700000000 + next(sent))
        return wechat.reply(wechat.post(xml)).get("Content")

    say.click = click
    return say


def bind(app, openid="oUser0001", points=120, money=88.5):
    sim = Sim(app)
    card = sim.a_member()
    assert Member(app, openid, sim).bind(card["MOBILE_TELEPHONE_NO"]).status_code == 200
    services = app.extensions["wxmember"]
    services.background.shutdown()
    member_id = card["MEMBER_ID"]
    current = services.members.points.balance(member_id)
    services.members.points.adjust(member_id, points - current, "测试", f"SET-{openid}")
    services.members.money.recharge(member_id, round(money * 100), f"TOPUP-{openid}")
    return card


@pytest.mark.parametrize(
    "text",
    [
        "积分",
        "我想查积分",
        "余额多少",
        "我的积分还有多少？",
        "查一下余额",
        "积分呢",
        "帮我看看积分",
    ],
)
def test_a_bound_member_asking_in_their_own_words_gets_the_figures(reply_app, chat, text):
    card = bind(reply_app)

    answer = chat(text)

    assert "当前积分：120" in answer and "账户余额：¥88.50" in answer
    assert card["MEM_CARD_NO"] in answer
    assert f'<a href="{SITE}/m/">会员中心</a>' in answer


@pytest.mark.parametrize("text", ["请问积分规则是什么", "积分怎么兑换", "积分规则", "你好"])
def test_questions_about_the_rules_get_the_brands_keyword_reply_not_the_figures(
    reply_app, chat, text
):
    bind(reply_app)
    answer = chat(text)
    assert answer is None or "当前积分" not in answer
    if "规则" in text:
        assert answer == KEYWORDS["积分规则"]


def test_a_follower_without_a_card_is_led_to_bind(reply_app, chat):
    assert chat("积分") == KEYWORDS["积分"]  # the brand's own words for it, when it has them
    answer = chat("余额多少")  # none configured for this one
    assert "您还没有绑定会员卡" in answer and f'<a href="{SITE}/m/bind">绑定会员卡</a>' in answer


def test_asking_for_the_member_center_links_to_it(reply_app, chat):
    unbound = chat("会员中心")
    bind(reply_app)
    bound = chat("会员中心")
    assert f'<a href="{SITE}/m/">进入会员中心</a>' in unbound and "绑定会员卡后" in unbound
    assert f'<a href="{SITE}/m/">进入会员中心</a>' in bound and "绑定会员卡后" not in bound


@pytest.mark.parametrize("key", ["会员中心", "MEMBER_CENTER"])
def test_the_menu_button_of_the_member_center_answers_with_the_link(reply_app, chat, key):
    bind(reply_app)
    answer = chat.click(key)
    assert (
        answer
        == f'您的积分、余额、优惠券和消费记录都在这里：\n<a href="{SITE}/m/">进入会员中心</a>'
    )
    logs = reply_app.extensions["wxmember"].database["lavico/user/logs"]
    assert logs.find_one({"action": "click"})["data"]["to"] == "center"


def test_a_menu_key_asking_for_points_gets_the_figures(reply_app, chat):
    bind(reply_app, points=7)
    assert "当前积分：7" in chat.click("积分")


def test_the_grade_and_the_way_to_the_next_are_in_the_answer(reply_app, chat):
    client = reply_app.test_client()
    client.post("/api/grades", json={"level": 1, "name": "VIP会员"}, headers=AUTH)
    up = {"by": "orders", "months": 6, "number": 3, "to": 1}
    client.post("/api/grades", json={"level": 0, "name": "普通会员", "up": up}, headers=AUTH)
    bind(reply_app)

    answer = chat("我想查积分")

    assert "会员等级：普通会员" in answer and "近6个月再消费3笔即可升级为VIP会员" in answer


def test_asking_for_coupons_leads_to_the_claim_tab_and_the_members_own(reply_app, chat):
    claim = f'<a href="{SITE}/m/coupons?status=claim">领券中心</a>'
    unbound = chat("领券")
    assert "绑定会员卡后即可领取优惠券" in unbound and f'{SITE}/m/bind"' in unbound
    bind(reply_app)
    bound = chat("我的优惠券")
    assert claim in bound and f'<a href="{SITE}/m/coupons">我的优惠券</a>' in bound
    assert claim in chat.click("COUPONS")
    logs = reply_app.extensions["wxmember"].database["lavico/user/logs"]
    assert logs.find_one({"action": "click"})["data"]["to"] == "coupons"


def test_the_brands_own_keyword_for_coupons_comes_first(make_app):
    app = make_app(member={"site_url": SITE}, replies={"keywords": {"优惠券": "双十二领券"}})
    wechat = WeChat(app.test_client())
    xml = samples.fill(samples.TEXT, openid="oUser0001", content="优惠券", msgid="1")
    assert wechat.reply(wechat.post(xml))["Content"] == "双十二领券"


def test_without_grades_the_answer_names_none_as_the_member_center_does(reply_app, chat):
    bind(reply_app, points=7)
    answer = chat("我想查积分")
    assert "当前积分：7" in answer and "会员等级" not in answer
    session = reply_app.test_client()
    session.get("/m/dev/login?openid=oUser0001")
    assert session.get("/m/api/me").json["grade"] is None


def test_without_a_site_url_the_answers_have_no_link(make_app):
    app = make_app()
    wechat = WeChat(app.test_client())
    answer = wechat.reply(wechat.post(samples.fill(samples.CLICK, key="会员中心")))["Content"]
    assert "<a" not in answer and "会员中心" in answer


@pytest.mark.parametrize(
    ("text", "asks"),
    [
        ("积分", True),
        ("  我想查积分 ", True),
        ("余额多少?", True),
        ("储值卡还有多少钱", True),
        ("积分规则", False),
        ("积分怎么获得", False),
        ("积分什么时候过期", False),
        ("今天天气不错", False),
        ("我想买一件积分兑换的衬衫", False),
    ],
)
def test_which_words_ask_for_the_figures(text, asks):
    assert is_member_query(text, KEYWORDS) is asks


def test_which_words_ask_for_coupons():
    assert (
        is_coupon_request("领券")
        and is_coupon_request(" 我的优惠券！")
        and is_coupon_request("COUPONS")
    )
    assert not is_coupon_request("优惠券怎么用") and not is_coupon_request("积分")


def test_which_words_ask_for_the_member_center():
    assert is_center_request("会员中心") and is_center_request("MEMBER_CENTER")
    assert not is_center_request("会员中心在哪里有什么活动")

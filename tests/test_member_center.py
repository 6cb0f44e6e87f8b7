"""The member center (``/m/``, ``/m/api/me``): the card, grade and the way to the next,
points and money as staff see them, coupons; a member without a card is told why."""

import re

import pytest

from jobs.runner import run_job
from tests.coupon_helpers import Shop, app_at_now
from tests.crm_helpers import Member, Sim, bound_member, create_activity, staff

CASH = "CQL201404010004"


@pytest.fixture
def center_app(make_app):
    app = make_app(crm={"timeout_s": 2, "retries": 0})
    run_job(app.extensions["wxmember"], "activities")
    return app


def text_of(response):
    html = response.get_data(as_text=True)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def grades(app):
    staff(app, "POST", "/api/grades", {"level": 1, "name": "VIP会员", "discount": 0.9})
    up = {"by": "spend", "months": 12, "number": 1000, "to": 1}
    staff(app, "POST", "/api/grades", {"level": 0, "name": "普通会员", "up": up})


# -- without a card ----------------------------------------------------------------------


def test_a_follower_without_a_card_is_told_why_and_led_to_bind(center_app):
    member = Member(center_app, "oNoCard", Sim(center_app))

    me = member.me()
    page = member.client.get("/m/")

    assert me["bound"] is False and me["member"] is None
    assert me["reason"]["code"] == "not_bound" and "绑定" in me["reason"]["message"]
    assert "points" not in me
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "您还没有绑定会员卡" in html
    assert re.search(r'href="/m/bind" id="to-bind">立即绑定</a>', html)
    assert me["reason"]["message"] in html


def test_after_unbinding_the_center_says_the_card_was_unbound(center_app):
    member = bound_member(center_app, "oLeaves")
    assert member.unbind(member.card["MOBILE_TELEPHONE_NO"]).status_code == 200

    me = member.me()

    assert me["bound"] is False and me["reason"]["code"] == "unbound"
    assert "会员卡已解除绑定" in member.client.get("/m/").get_data(as_text=True)


def test_without_a_session_there_is_no_center(center_app):
    client = center_app.test_client()
    assert client.get("/m/api/me").status_code == 401
    page = client.get("/m/")
    assert page.status_code == 401 and "请在微信中打开" in page.get_data(as_text=True)


# -- a bound member ----------------------------------------------------------------------


def test_the_center_and_the_staff_api_show_the_same_member(center_app):
    grades(center_app)
    member = bound_member(center_app, "oCenter")
    member_id = member.card["MEMBER_ID"]
    staff(
        center_app,
        "POST",
        f"/api/members/{member_id}/points",
        {"amount": 77, "reason": "礼", "formId": "G1"},
    )
    tx = {"formId": "R1", "memberID": member_id, "type": "recharge", "amount": 1234.5}
    staff(center_app, "POST", "/api/transactions", tx)
    staff(
        center_app,
        "POST",
        f"/api/members/{member_id}/money/freeze",
        {"amount": 34.5, "formId": "F1"},
    )
    staff(center_app, "POST", f"/api/members/{member_id}/earnings", {"amount": 8, "formId": "E1"})

    seen_by_staff = staff(center_app, "GET", f"/api/members/{member_id}")
    me = member.me()
    page = text_of(member.client.get("/m/"))

    for figure in ("points", "money", "frozen", "earnings"):
        assert me[figure] == seen_by_staff[figure], figure
    assert me["grade"]["level"] == seen_by_staff["grade"]["level"] == 0
    assert me["grade"]["name"] == seen_by_staff["grade"]["name"] == "普通会员"
    assert me["money"] == 1200 and me["frozen"] == 34.5
    assert f" {me['points']} 积分" in page
    assert "¥1,200.00 余额" in page and "¥34.50 冻结" in page and "普通会员" in page


def test_the_card_shows_its_type_and_a_masked_number(center_app):
    member = bound_member(center_app, "oMasked")
    number = member.card["MEM_CARD_NO"]

    me = member.me()
    html = member.client.get("/m/").get_data(as_text=True)

    masked = me["card"]["maskedNumber"]
    assert masked == number[:3] + "*" * (len(number) - 7) + number[-4:]
    assert me["card"]["typeName"] in ("白卡", "VIP卡", "白金VIP卡")
    assert masked in html and number not in html
    assert me["member"]["cardNumber"] == number  # the member's own, for the store counter


def test_the_way_to_the_next_grade_is_shown_with_what_it_takes(center_app):
    grades(center_app)
    member = bound_member(center_app, "oClimber")
    member_id = member.card["MEMBER_ID"]
    tx = {"formId": "P1", "memberID": member_id, "type": "purchase", "amount": 300}
    staff(center_app, "POST", "/api/transactions", tx)

    grade = member.me()["grade"]

    assert grade["next"] == {
        "level": 1,
        "name": "VIP会员",
        "by": "spend",
        "months": 12,
        "need": 1000,
        "have": 300,
        "missing": 700,
        "percent": 30,
    }
    assert grade["hint"] == "近12个月再消费¥700.00即可升级为VIP会员"
    html = member.client.get("/m/").get_data(as_text=True)
    assert grade["hint"] in html and 'style="width: 30%"' in html

    staff(center_app, "POST", "/api/transactions", {**tx, "formId": "P2", "amount": 700})
    upgraded = member.me()["grade"]
    assert upgraded["name"] == "VIP会员" and upgraded["next"] is None
    assert upgraded["hint"] == "您已是最高等级"


def test_a_grade_kept_by_a_rule_says_what_keeps_it(center_app):
    staff(center_app, "POST", "/api/grades", {"level": 0, "name": "普通会员"})
    down = {"by": "orders", "months": 6, "number": 2, "to": 0}
    staff(center_app, "POST", "/api/grades", {"level": 1, "name": "VIP会员", "down": down})
    member = bound_member(center_app, "oKeeper")
    staff(center_app, "POST", f"/api/members/{member.card['MEMBER_ID']}", {"lockGrade": False})
    services = center_app.extensions["wxmember"]
    services.members.grades.members.update_one(
        {"_id": member.card["MEMBER_ID"]}, {"$set": {"GradeID": 1}}
    )

    grade = member.me()["grade"]

    assert grade["hold"]["by"] == "orders" and grade["hold"]["need"] == 2
    assert grade["hint"] == "您已是最高等级，近6个月消费满2笔可保持等级"


def test_each_member_sees_only_their_own_figures(center_app):
    first = bound_member(center_app, "oFirst", index=0)
    second = bound_member(center_app, "oSecond", index=1)
    staff(
        center_app,
        "POST",
        f"/api/members/{first.card['MEMBER_ID']}/points",
        {"amount": 12345, "reason": "礼", "formId": "ONLY-FIRST"},
    )

    mine, theirs = first.me(), second.me()

    assert mine["member"]["memberID"] == first.card["MEMBER_ID"]
    assert theirs["member"]["memberID"] == second.card["MEMBER_ID"]
    assert mine["points"] - theirs["points"] != 0
    assert first.card["MEM_CARD_NO"][-4:] not in second.client.get("/m/").get_data(as_text=True)
    # a member id or openid in the request changes nothing
    assert second.client.get("/m/api/me?memberID=1&openid=oFirst").json == theirs


def test_coupons_won_by_shaking_are_counted_on_the_center(center_app):
    member = bound_member(center_app, "oLucky")
    services = center_app.extensions["wxmember"]
    services.members.points.adjust(member.card["MEMBER_ID"], 100, "测试", "SHAKE-POINTS")
    aid = create_activity(center_app, [{"promotion_code": CASH, "lottery_chance": 100, "stock": 5}])
    won = member.client.post("/m/api/shake", json={"aid": aid, "shakeId": "one"}).json
    assert won["win"] is True

    me = member.me()

    assert me["coupons"] == {"valid": 1, "total": 1}
    assert re.search(
        r'id="fig-coupons"><div class="figure__value">1<',
        member.client.get("/m/").get_data(as_text=True),
    )


def test_the_center_links_to_every_page(center_app):
    member = bound_member(center_app, "oLinks")
    html = member.client.get("/m/").get_data(as_text=True)
    for path in ("/m/points", "/m/money", "/m/purchases", "/m/coupons", "/m/shake", "/m/bind"):
        assert f'href="{path}"' in html, path


def test_the_brands_own_coupons_are_on_the_coupons_page_and_counted(make_app, clock):
    shop = Shop(app_at_now(make_app, clock), points=1)
    claimed = shop.member.claim(shop.staff.coupon(name="满100减10"))[1]["couponNo"]
    discount = shop.staff.coupon(name="会员八五折", kind="discount", threshold=0, value=0.85)
    shop.member.claim(discount)

    page = text_of(shop.member.client.get("/m/coupons"))
    me = shop.member("GET", "/m/api/me")[1]

    assert "满100减10" in page and "¥10" in page
    assert "会员八五折" in page and "8.5折" in page
    assert me["coupons"] == {"valid": 2, "total": 2}
    assert claimed in {c["couponNo"] for c in shop.member.coupons()}

"""The member's offers as pages (seed 003): the 领券 tab of /m/coupons lists the coupons to
claim with what limits them, /m/redemptions (积分商城) the points, the items on offer (those
the member cannot afford shown so) and the member's own redemptions."""

import re

import pytest

from tests.coupon_helpers import DAY, NOW, MemberSession, Shop, app_at_now

CLAIM = "/m/coupons?status=claim"


@pytest.fixture
def shop(make_app, clock):
    return Shop(app_at_now(make_app, clock), points=2500)


def text_of(response):
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def card(html, name):
    """The HTML of the card (a coupon to claim, a gift) named ``name``."""
    html = html.split('<div class="weui-footer')[0].split("</section>")[0]
    cards = re.split(r'(?=<div class="(?:coupon coupon_claim|card-row gift))', html)[1:]
    [found] = [c for c in cards if f">{name}<" in c]
    return found


def item(shop, **fields):
    body = {"name": "保温杯", "points": 1000, "stock": 5, **fields}
    return shop.staff.ok("POST", "/api/redemptions", body)["itemId"]


# -- 领券 ------------------------------------------------------------------------------------


def test_the_claim_tab_lists_the_coupons_to_claim_with_their_limits(shop):
    limited = shop.staff.coupon(name="满100减10", perMember=2, stock=50, validDays=30)
    shop.staff.coupon(
        name="会员八五折", kind="discount", threshold=0, value=0.85, stock=None, end=NOW + 2 * DAY
    )
    shop.staff.coupon(name="生日券", purpose="birthday")  # given on birthdays, not claimed
    assert shop.member.claim(limited)[0] == 200

    page = shop.member.client.get(CLAIM)
    html, text = page.get_data(as_text=True), text_of(page)

    assert "生日券" not in text
    names = re.findall(r'<div class="coupon__name">([^<]+)<', html)
    assert sorted(names) == ["会员八五折", "满100减10"]
    ten = card(html, "满100减10")
    assert "¥10" in ten and "满100元减10元" in ten and "领取后30天内有效" in ten
    assert "仅剩 49 张" in ten and re.search(r"每人限领 2 张 · 已领 <[^>]+>1<", ten)
    assert re.search(r'js-claim">领取<', ten)  # one more is allowed
    rate = card(html, "会员八五折")
    assert "8.5折" in rate and "无门槛使用" in rate and "有效期至 2026-05-31" in rate
    assert "仅剩" not in rate
    assert 'class="on" aria-current="page">领券' in html
    assert re.search(r'id="count-valid"> 1<', html)  # the claimed one is under 可使用


def test_a_coupon_claimed_up_to_its_limit_shows_claimed_and_cannot_be_pressed(shop):
    shop.member.claim(shop.staff.coupon(name="新人券"))

    html = shop.member.client.get(CLAIM).get_data(as_text=True)

    assert re.search(r'js-claim" disabled>已领取<', card(html, "新人券"))


def test_a_claimed_coupon_is_listed_under_valid_with_its_kind_in_chinese(shop):
    shop.member.claim(shop.staff.coupon(name="满100减10"))

    html = shop.member.client.get("/m/coupons").get_data(as_text=True)

    assert "<strong>¥10</strong><span>满减券</span>" in html and "minus" not in html


def test_a_held_discount_without_threshold_says_so_instead_of_its_rate_twice(shop):
    rate = shop.staff.coupon(name="会员八五折", kind="discount", threshold=0, value=0.85)
    shop.member.claim(rate)

    html = shop.member.client.get("/m/coupons").get_data(as_text=True)

    held = html.split('id="coupon-1"')[1].split("coupon__no")[0]
    assert "会员八五折" in held and held.count("8.5折") == 1 and "无门槛使用" in held


def test_without_coupons_to_claim_the_tab_says_so(shop):
    assert "暂时没有可以领取的优惠券" in text_of(shop.member.client.get(CLAIM))


def test_the_center_and_the_coupons_page_lead_to_the_claim_tab(shop):
    assert f'href="{CLAIM}"' in shop.member.client.get("/m/").get_data(as_text=True)
    assert f'href="{CLAIM}"' in shop.member.client.get("/m/coupons").get_data(as_text=True)


# -- 积分商城 ----------------------------------------------------------------------------------


def test_the_shop_shows_the_points_and_what_they_buy(shop):
    coupon_id = shop.staff.coupon(
        name="兑换券", kind="cash", threshold=0, value=10, purpose="redemption"
    )
    item(shop, name="10元券", points=1500, couponId=coupon_id, description="全场通用")
    item(shop, name="羊绒围巾", points=3000, stock=2)

    page = shop.member.client.get("/m/redemptions")
    html, text = page.get_data(as_text=True), text_of(page)

    assert re.search(r'id="points">2,500<', html)
    scarf, voucher = card(html, "羊绒围巾"), card(html, "10元券")
    assert "羊绒围巾" in scarf and "3,000" in scarf and "剩余 2 件" in scarf
    assert re.search(r'js-redeem" disabled>积分不足<', scarf)
    assert "10元券" in voucher and "全场通用" in voucher and "兑换后得到优惠券" in voucher
    assert re.search(r'js-redeem">兑换<', voucher)
    assert "还没有兑换记录" in text


def test_the_shop_lists_the_members_own_redemptions(shop):
    item_id = item(shop, name="保温杯", points=1000)
    answer = shop.member("POST", f"/m/api/redemptions/{item_id}", {"requestId": "r1"})[1]
    assert answer["balance"] == 1500

    html = shop.member.client.get("/m/redemptions").get_data(as_text=True)

    assert re.search(r'id="points">1,500<', html)
    history = html[html.index('id="history"') :]
    assert "保温杯" in history and "2026-05-29 04:26" in history and "-1,000" in history
    assert "还没有兑换记录" not in html
    assert "剩余 4 件" in card(html, "保温杯")


def test_the_center_and_the_points_page_lead_to_the_shop(shop):
    for path in ("/m/", "/m/points"):
        assert 'href="/m/redemptions"' in shop.member.client.get(path).get_data(as_text=True)


def test_a_follower_without_a_card_is_asked_to_bind_first(shop):
    guest = MemberSession(shop.app, bound=False)
    for path in (CLAIM, "/m/redemptions"):
        text = text_of(guest.client.get(path))
        assert "您还没有绑定会员卡" in text and "立即绑定" in text, path
        assert "积分不足" not in text and "领取" not in text.replace("领取优惠券", "")

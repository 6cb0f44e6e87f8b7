"""The member's offers in a real (headless) Chromium at a phone's size (390×844): claiming a
coupon on the 领券 tab (a double tap is one claim) and exchanging points in 积分商城, each
step photographed (``WXMEMBER_SCREENSHOTS=DIR`` keeps the pictures to look at).

Needs /usr/bin/chromium and playwright (the ``browser`` fixture of tests/browser.py).
"""

import pytest

from tests.conftest import LiveServer
from tests.coupon_helpers import MemberSession, Shop, app_at_now

pytestmark = pytest.mark.browser


@pytest.fixture
def shop(make_app, clock):
    """A bound member with 2,500 points, and the app on a real port."""
    shop = Shop(app_at_now(make_app, clock), points=2500)
    shop.server = LiveServer(shop.app)
    yield shop
    shop.server.stop()


@pytest.fixture
def phone_for(member_phone, shop):
    return lambda openid, path="/m/": member_phone(shop.server.url, openid, path)


def claims_of(shop, coupon_id):
    return [c for c in shop.member.coupons() if c["couponId"] == coupon_id]


def test_a_member_claims_coupons_and_a_double_tap_is_one_claim(phone_for, shop, shots):
    once = shop.staff.coupon(name="满100减10", stock=50, validDays=30)
    thrice = shop.staff.coupon(
        name="会员八五折", kind="discount", threshold=0, value=0.85, perMember=3, stock=None
    )
    page = phone_for(shop.member.openid)
    page.click("#entry-claim")
    page.wait_for_url("**/m/coupons?status=claim")
    assert page.title() == "领券中心"
    ten = page.locator(".coupon_claim", has_text="满100减10")
    assert "仅剩 50 张" in ten.inner_text() and "领取后30天内有效" in ten.inner_text()
    shots(page, "claim")

    ten.locator(".js-claim").click()
    page.wait_for_selector("#toast .weui-toast", state="visible")
    assert page.inner_text("#toast-text") == "领取成功"
    page.wait_for_function("document.querySelector('.coupon_off .js-claim') !== null")
    assert ten.locator(".js-claim").inner_text() == "已领取"
    assert ten.locator(".js-claim").is_disabled()
    assert "仅剩 49 张" in ten.inner_text() and "已领 1 张" in ten.inner_text()
    assert page.inner_text("#tab-valid") == "可使用 1"
    shots(page, "claim-done")

    rate = page.locator(".coupon_claim", has_text="会员八五折")
    rate.locator(".js-claim").dblclick()  # a double tap: one claim
    page.wait_for_function(
        "[...document.querySelectorAll('.js-claimed')].map(e => e.textContent).join() == '1,1'"
    )
    page.wait_for_timeout(300)  # a second claim, had one been sent, has had its answer
    assert len(claims_of(shop, thrice)) == 1 and len(claims_of(shop, once)) == 1
    assert (
        rate.locator(".js-claim").inner_text() == "领取" and rate.locator(".js-claim").is_enabled()
    )

    page.click("#tab-valid")
    page.wait_for_url("**/m/coupons?status=valid")
    names = page.locator(".coupon__name").all_inner_texts()
    assert sorted(names) == ["会员八五折", "满100减10"]
    shots(page, "coupons-after-claim")
    page.go_back()  # the claim tab as it is now
    page.wait_for_selector(".coupon_claim")
    assert page.locator(".coupon_claim", has_text="满100减10").locator(".js-claim").is_disabled()


def test_a_member_exchanges_points_after_confirming(phone_for, shop, shots):
    coupon_id = shop.staff.coupon(
        name="兑换券", kind="cash", threshold=0, value=10, purpose="redemption"
    )
    body = {"name": "10元券", "points": 1500, "stock": 20, "couponId": coupon_id}
    shop.staff.ok("POST", "/api/redemptions", {**body, "description": "全场无门槛使用"})
    body = {"name": "羊绒围巾", "points": 3000, "stock": 3, "description": "100%山羊绒，灰色"}
    shop.staff.ok("POST", "/api/redemptions", body)
    page = phone_for(shop.member.openid)
    page.wait_for_selector("#entry-redemptions")
    shots(page, "center-offers")
    page.click("#entry-redemptions")
    page.wait_for_url("**/m/redemptions")
    assert page.title() == "积分商城" and page.inner_text("#points") == "2,500"
    scarf = page.locator(".gift", has_text="羊绒围巾")
    voucher = page.locator(".gift", has_text="10元券")
    assert scarf.locator(".js-redeem").is_disabled()
    assert scarf.locator(".js-redeem").inner_text() == "积分不足"
    assert "兑换后得到优惠券" in voucher.inner_text()
    shots(page, "redemptions")

    scarf.locator(".js-redeem").click(force=True)  # what cannot be afforded is not asked for
    assert not page.is_visible("#redeem-dialog .weui-dialog")

    voucher.locator(".js-redeem").click()
    page.wait_for_selector("#redeem-dialog .weui-dialog", state="visible")
    assert page.inner_text("#redeem-dialog-body") == "确定用 1,500 积分兑换 10元券？"
    shots(page, "redeem-confirm")
    page.click("#redeem-dialog .js-no")  # not now: nothing taken
    assert shop.points() == 2500 and page.inner_text("#points") == "2,500"

    voucher.locator(".js-redeem").click()
    page.click("#redeem-dialog-yes")
    page.wait_for_selector("#done-dialog .weui-dialog", state="visible")
    assert "剩余积分 1,000" in page.inner_text("#done-body")
    assert shop.points() == 1000 and page.inner_text("#points") == "1,000"
    assert "10元券" in page.inner_text("#history") and "-1,500" in page.inner_text("#history")
    assert voucher.locator(".js-redeem").inner_text() == "积分不足"  # 1,000 left now
    shots(page, "redeem-done")

    page.click("#done-coupons")
    page.wait_for_url("**/m/coupons")
    assert "兑换券" in page.locator(".coupon__name").all_inner_texts()
    page.go_back()
    page.wait_for_selector("#history")
    assert "10元券" in page.inner_text("#history")  # as the server lists it
    shots(page, "redemptions-after")


def test_a_follower_without_a_card_is_asked_to_bind_first(phone_for, shop, shots):
    guest = MemberSession(shop.app, bound=False)
    page = phone_for(guest.openid, "/m/coupons?status=claim")
    page.wait_for_selector("#to-bind")
    shots(page, "claim-unbound")
    page.goto(shop.server.url + "/m/redemptions")
    page.wait_for_selector("#to-bind")
    assert "您还没有绑定会员卡" in page.inner_text("#unbound")
    shots(page, "redemptions-unbound")

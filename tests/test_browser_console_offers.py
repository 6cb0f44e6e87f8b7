"""The console's offers pages in a real (headless) Chromium: an admin puts a redemption item
on offer through the form and takes it off, changes the checkout settings and tries a
quote; at a laptop's width (1366) and a tablet's (768).

WXMEMBER_SCREENSHOT=/dir/x.png puts the screenshots beside that path as x-console-*.png.
"""

import pytest

from tests.conftest import LiveServer
from tests.console_helpers import MEMBER, add_staff, bind_member
from tests.coupon_helpers import DAY, HOUR, Staff
from tests.test_browser_console import TABLET, _shot, _signed_in

pytestmark = pytest.mark.browser


@pytest.fixture
def server(make_app):
    app = make_app()
    services = app.extensions["wxmember"]
    add_staff(app, "adam", "admin")
    bind_member(app)
    staff, now = Staff(app), services.clock.now_ms()
    staff.ok(
        "POST",
        f"/api/members/{MEMBER}/points",
        {"amount": 20_000, "reason": "测试", "formId": "P1"},
    )
    services.members.grades.save({"level": 0, "name": "银卡", "discount": 0.9})
    window = {"start": now - HOUR, "end": now + DAY}
    gift = staff.coupon(
        name="10元代金券", kind="cash", threshold=0, value=10, purpose="redemption", **window
    )
    minus = staff.coupon(name="满100减20", value=20, **window)
    issued = staff.ok("POST", f"/api/coupons/{minus}/issue", {"memberID": MEMBER, "formId": "G1"})
    services.members.redemptions.create({"name": "帆布袋", "points": 800, "stock": 30})
    server = LiveServer(app)
    server.gift, server.coupon_no = gift, issued["couponNo"]
    yield server
    server.stop()


def _fits(page, width):
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_an_admin_offers_an_item_changes_the_settings_and_tries_a_quote(browser, server, tmp_path):
    context, page = _signed_in(browser, server, "adam")
    page.click("nav >> text=积分兑换")
    page.wait_for_selector("#redemption-form")
    page.fill("#name", "10元券")
    page.fill("#points", "1500")
    page.fill("#stock", "100")
    page.select_option("#couponId", server.gift)
    page.fill("#description", "兑换后发到券包，30天内有效")
    page.click("#save")
    page.wait_for_selector("#notice")
    assert "兑换品已上架" in page.inner_text("#notice")
    row = page.locator("#redemption-table tbody tr", has_text="10元券")
    assert "1,500" in row.inner_text() and "10元代金券" in row.inner_text()
    assert "兑换中" in row.inner_text()
    _shot(page, tmp_path, "redemptions")
    page.locator("#redemption-table tbody tr", has_text="帆布袋").locator("button.switch").click()
    page.wait_for_selector("#notice")
    bag = page.locator("#redemption-table tbody tr", has_text="帆布袋")
    assert "已下架" in bag.inner_text() and bag.locator("button.switch").inner_text() == "上架"
    page.locator("#redemption-table tbody tr", has_text="10元券").locator("text=修改").click()
    assert page.input_value("#points") == "1500" and page.locator("#stock").count() == 0
    page.fill("#points", "1200")
    _shot(page, tmp_path, "redemption-edit")
    page.click("#save")
    page.wait_for_selector("#notice")
    assert "1,200" in page.locator("#redemption-table tbody tr", has_text="10元券").inner_text()

    page.click("nav >> text=结算规则")
    page.wait_for_selector("#checkout-settings-form")
    assert "第 1 轮优惠券 + 会员等级折扣" in page.inner_text("#stages").replace("\n", "")
    page.select_option("#order_grade", "2")
    page.select_option("#order_points", "3")
    page.fill("#pointsCap", "30")
    page.click("#save")
    page.wait_for_selector("#notice")
    stages = page.inner_text("#stages")
    assert "会员等级折扣" in stages.split("第 2 轮")[1] and "积分抵现" in stages.split("第 3 轮")[1]
    assert "基数的 30%" in page.inner_text("#cap")

    page.fill("#memberID", str(MEMBER))
    page.fill("#amount", "200")
    page.fill("#coupons", server.coupon_no)
    page.fill("#points", "10000")
    page.click("#try")
    page.wait_for_selector("#quote-table")
    steps = page.locator("#quote-table tr.step").all_inner_texts()
    assert [s.split("\t")[1] for s in steps] == ["满减券", "会员等级折扣", "积分抵现"]
    _shot(page, tmp_path, "checkout")
    assert page.inner_text("#quote-total") == "113.40"

    page.fill("#amount", "50")
    page.click("#try")
    page.wait_for_selector("#quote-error")
    assert "需满100元使用" in page.inner_text("#quote-error")
    assert page.input_value("#coupons") == server.coupon_no  # kept as typed

    page.set_viewport_size(TABLET)
    page.goto(f"{server.url}/console/redemptions")
    _fits(page, TABLET["width"])
    _shot(page, tmp_path, "redemptions-tablet")
    page.goto(f"{server.url}/console/checkout")
    _fits(page, TABLET["width"])
    _shot(page, tmp_path, "checkout-tablet")
    context.close()

"""The console's coupon pages in a real (headless) Chromium: an admin defines a 折扣券
through the form (its fields follow the chosen kind), an operator issues one to a member
by mobile, and the member's page lists it; at a laptop's width and a tablet's.

WXMEMBER_SCREENSHOT=/dir/x.png puts the screenshots beside that path as x-console-*.png.
"""

import time

import pytest

from tests.conftest import LiveServer
from tests.console_helpers import MEMBER, add_staff, bind_member
from tests.test_browser_console import TABLET, _shot, _signed_in
from wxmember.web.console.present import local_input

pytestmark = pytest.mark.browser
MOBILE = "13912340000"


@pytest.fixture
def server(make_app):
    app = make_app()
    bind_member(app, "oMember", MEMBER, mobile=MOBILE)
    app.extensions["wxmember"].members.grades.save({"level": 1, "name": "普通会员", "discount": 1})
    for username, role in (("adam", "admin"), ("olivia", "operator")):
        add_staff(app, username, role)
    server = LiveServer(app)
    yield server
    server.stop()


def test_an_admin_defines_a_coupon_and_an_operator_issues_it(browser, server, tmp_path):
    context, page = _signed_in(browser, server, "adam")
    page.click("nav >> text=优惠券")
    page.wait_for_selector("#coupon-table")
    assert "还没有优惠券" in page.inner_text("#coupon-table")
    page.fill("#name", "会员日85折")
    page.select_option("#kind", "discount")
    assert page.is_visible("#rate") and not page.is_visible("#value")  # 折 instead of yuan
    assert not page.is_visible("#grade")  # only for upgrade coupons
    page.fill("#threshold", "100")
    page.fill("#rate", "85")
    page.fill("#stock", "200")
    page.fill("#validDays", "30")
    assert page.input_value("#start") > local_input(time.time() * 1000)  # the next hour, by default
    page.fill("#start", local_input(time.time() * 1000 - 60_000))  # issuing from now on
    page.click("#save-coupon")
    assert page.inner_text("#error") == "折扣须在0.1到9.9之间。"
    assert page.input_value("#name") == "会员日85折"  # what was typed stays
    page.fill("#rate", "8.5")
    page.click("#save-coupon")
    page.wait_for_selector("#notice")
    assert page.inner_text("#coupon-description") == "满100元8.5折（折扣券）"
    _shot(page, tmp_path, "coupon-created")
    page.click("text=返回优惠券列表")
    row = page.inner_text("#coupon-table tbody tr:first-child")
    assert "会员日85折" in row and "发放后 30 天内有效" in row and "200" in row
    page.set_viewport_size(TABLET)
    assert page.evaluate("document.documentElement.scrollWidth") <= TABLET["width"]
    _shot(page, tmp_path, "coupons-tablet")
    context.close()

    context, page = _signed_in(browser, server, "olivia")
    page.click("nav >> text=优惠券")
    page.click("#coupon-table >> text=会员日85折")
    page.fill("#member", "13900000000")
    page.click("#issue-coupon")
    assert "没有找到会员" in page.inner_text("#error")
    page.fill("#member", MOBILE)
    page.click("#issue-coupon")
    page.wait_for_selector("#notice")
    holder = page.inner_text("#holder-table tbody tr:first-child")
    assert str(MEMBER) in holder and "员工发放" in holder and "可使用" in holder
    assert page.inner_text("#stat-issued") == "1"
    _shot(page, tmp_path, "coupon-holders")

    page.click(f"#holder-table >> text={MEMBER}")  # the member's page
    page.wait_for_selector("#member-coupons")
    held = page.inner_text("#held-table tbody tr:first-child")
    assert "会员日85折" in held and "满100元8.5折" in held and "可使用" in held
    page.set_viewport_size(TABLET)
    assert page.evaluate("document.documentElement.scrollWidth") <= TABLET["width"]
    page.locator("#member-coupons").scroll_into_view_if_needed()
    _shot(page, tmp_path, "customer-coupons-tablet")
    context.close()

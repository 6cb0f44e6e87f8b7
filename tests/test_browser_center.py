"""Every member page in a real (headless) Chromium at a phone's size (390×844), bound and
unbound, each photographed: ``WXMEMBER_SCREENSHOTS=DIR`` keeps the pictures to look at.

Needs /usr/bin/chromium and playwright (the ``browser`` fixture of tests/browser.py).
"""

import time

import pytest

from jobs.runner import run_job
from tests.conftest import LiveServer
from tests.crm_helpers import Member, Sim, create_activity, staff

pytestmark = pytest.mark.browser
CASH = "CQL201404010004"


@pytest.fixture
def server(make_app):
    app = make_app(crm={"timeout_s": 2, "retries": 0})
    run_job(app.extensions["wxmember"], "activities")
    server = LiveServer(app)
    yield server
    server.stop()


@pytest.fixture
def phone_for(member_phone, server):
    return lambda openid, path="/m/": member_phone(server.url, openid, path)


@pytest.fixture
def member(server):
    """A bound member with a grade on the way up, points, money, purchases and a coupon."""
    app = server.app
    sim = Sim(app)
    card = sim.a_member()
    someone = Member(app, "oPhone", sim)
    assert someone.bind(card["MOBILE_TELEPHONE_NO"]).status_code == 200
    app.extensions["wxmember"].background.shutdown()
    member_id = card["MEMBER_ID"]
    staff(app, "POST", "/api/grades", {"level": 1, "name": "VIP会员", "discount": 0.9})
    up = {"by": "spend", "months": 12, "number": 2000, "to": 1}
    staff(app, "POST", "/api/grades", {"level": 0, "name": "普通会员", "up": up})
    rule = {"ruleId": "c", "type": "consumption", "amount": 1, "points": 1}
    staff(app, "POST", "/api/point-rules", rule)
    base = f"/api/members/{member_id}"
    staff(app, "POST", f"{base}/points", {"amount": 200, "reason": "开卡礼", "formId": "GIFT"})
    for body in (
        {"formId": "R001", "type": "recharge", "amount": 1000},
        {
            "formId": "P001",
            "type": "purchase",
            "amount": 899,
            "pointsSpent": 50,
            "balancePaid": 100,
        },
        {"formId": "P002", "type": "purchase", "amount": 459},
        {"formId": "F001", "type": "refund", "amount": 459, "refundOf": "P002"},
    ):
        staff(app, "POST", "/api/transactions", {"memberID": member_id, **body})
    staff(app, "POST", f"{base}/money/freeze", {"amount": 88.8, "formId": "Z1"})
    staff(app, "POST", f"{base}/earnings", {"amount": 36, "formId": "E1", "summary": "推荐奖励"})
    aid = create_activity(
        app,
        [
            {"promotion_code": CASH, "lottery_chance": 100, "stock": 5, "display_name": "现金券"},
            {"promotion_code": "CQL201406010002", "lottery_chance": 0, "stock": 0},
        ],
        limit=3,
        points=5,
    )
    assert someone.client.post("/m/api/shake", json={"aid": aid, "shakeId": "w"}).json["win"]
    someone.card = card
    return someone


def test_a_bound_member_goes_through_every_page(phone_for, member, shots):
    page = phone_for("oPhone")
    page.wait_for_selector("#card")
    assert page.title() == "会员中心"
    number = member.card["MEM_CARD_NO"]
    assert page.inner_text("#card-number") == number[:3] + "*" * (len(number) - 7) + number[-4:]
    assert page.inner_text("#card-grade") == "普通会员"
    assert page.inner_text("#grade-hint") == "近12个月再消费¥1,101.00即可升级为VIP会员"
    assert page.inner_text("#fig-coupons .figure__value") == "1"
    shots(page, "center-bound")

    page.click("#fig-points")
    page.wait_for_url("**/m/points")
    assert page.title() == "积分明细"
    assert page.locator(".row").count() >= 4
    shots(page, "points")
    page.go_back()  # WeChat's back button: the center again, as it is now
    page.wait_for_selector("#card")

    page.click("#entry-money")
    page.wait_for_url("**/m/money")
    assert "¥811.20" in page.inner_text("#balance")  # 1000 - 100 paid - 88.80 frozen
    shots(page, "money")
    page.click("#tab-frozen")
    page.wait_for_url("**/m/money?kind=frozen")
    assert page.inner_text("#balance") == "¥88.80"
    shots(page, "money-frozen")
    page.go_back()
    page.go_back()
    page.wait_for_selector("#card")

    page.click("#entry-purchases")
    page.wait_for_url("**/m/purchases")
    rows = page.inner_text("#rows")
    assert "已全额退款" in rows and "原单 P002" in rows and "积分抵扣 50" in rows
    shots(page, "purchases")
    page.go_back()

    page.click("#entry-coupons")
    page.wait_for_url("**/m/coupons")
    assert page.locator(".coupon").count() == 1 and "现金券" in page.inner_text(".coupon__name")
    shots(page, "coupons")
    page.click("#tab-used")
    page.wait_for_selector("#empty")
    page.go_back()
    page.go_back()

    page.click("#entry-shake")
    page.wait_for_url("**/m/shake")
    page.wait_for_selector("#game:not(.hidden)")
    assert page.inner_text("#left-count") == "2"
    assert "9折券（已发完）" in page.inner_text("#activity-prizes")
    page.click("#shake")
    page.wait_for_selector("#result.win")
    page.wait_for_function("document.getElementById('left-count').textContent == '1'")
    shots(page, "shake-bound")

    page.goto(page.url.replace("/m/shake", "/m/bind"))
    page.wait_for_selector("#bound:not(.hidden)")
    assert page.inner_text("#card-grade") == "普通会员"
    assert page.inner_text("#to-center") == "进入会员中心"
    shots(page, "bind-bound")


def test_a_follower_without_a_card_sees_why_on_every_page(phone_for, server, shots):
    create_activity(server.app, [{"promotion_code": CASH, "lottery_chance": 50, "stock": 5}])
    page = phone_for("oStranger")
    page.wait_for_selector("#unbound")
    assert "您还没有绑定会员卡" in page.inner_text("#unbound")
    shots(page, "center-unbound")

    for path, name in (
        ("/m/points", "points-unbound"),
        ("/m/purchases", "purchases-unbound"),
        ("/m/coupons", "coupons-unbound"),
    ):
        page.goto(server.url + path)
        page.wait_for_selector("#to-bind")
        shots(page, name)

    page.goto(server.url + "/m/shake")
    page.wait_for_selector("#game:not(.hidden)")
    assert page.is_visible("#bind-first")
    page.click("#shake")
    page.wait_for_selector("#result-bind")
    shots(page, "shake-unbound")
    page.click("#result-bind")
    page.wait_for_url("**/m/bind")
    page.wait_for_selector("#unbound:not(.hidden)")
    shots(page, "bind-unbound")

    page.goto(server.url + "/m/")
    page.click("#to-bind")
    page.wait_for_url("**/m/bind")
    time.sleep(0.1)


def test_a_member_keeps_the_profile_addresses_and_invoice_titles(phone_for, member, server, shots):
    page = phone_for("oPhone", "/m/profile")
    page.wait_for_selector("#save")
    assert page.title() == "个人资料"
    assert page.get_attribute("#birthday", "type") == "date"
    page.fill("#name", "王芳")
    page.select_option("#gender", "female")
    page.fill("#birthday", "1990-05-20")
    page.select_option("#style", "优雅知性")
    page.click("text=阅读")
    page.click("text=音乐")
    Sim(server.app).faults(down=True)  # the CRM is away: the change waits for it
    page.click("#save")
    page.wait_for_selector("#birthday-dialog .weui-dialog")
    assert "1990-05-20" in page.inner_text("#birthday-dialog-body")
    shots(page, "profile-birthday-confirm")
    page.click("#birthday-dialog-yes")
    page.wait_for_selector("#sync.warn")
    assert "正在同步到门店系统" in page.inner_text("#sync")
    assert page.is_disabled("#birthday") and page.input_value("#name") == "王芳"
    assert page.is_checked("#interests input[value='阅读']")
    shots(page, "profile")
    Sim(server.app).faults(down=False)

    page.click("#entry-addresses")
    page.wait_for_url("**/m/profile/addresses")
    page.wait_for_selector("#empty")
    page.click("#add")
    assert page.get_attribute("#a-mobile", "inputmode") == "numeric"
    page.fill("#a-name", "王芳")
    page.fill("#a-mobile", "13900007301")
    page.fill("#a-province", "上海")
    page.fill("#a-city", "上海")
    page.fill("#a-district", "静安区")
    page.fill("#a-address", "南京西路1266号恒隆广场")
    page.fill("#a-tag", "公司")
    shots(page, "address-form")
    page.click("#save")
    page.wait_for_selector("#address-1")
    assert "默认" in page.inner_text("#address-1") and "139****7301" in page.inner_text(
        "#address-1"
    )
    page.click("#add")
    page.fill("#a-mobile", "1390000")
    page.click("#save")
    page.wait_for_selector("#message.error")
    assert page.inner_text("#message") == "请填写收货人姓名（不超过20个字）"
    page.click("#cancel")
    shots(page, "addresses")
    page.go_back()

    page.wait_for_selector("#entry-invoices")
    page.click("#entry-invoices")
    page.wait_for_url("**/m/profile/invoices")
    page.click("#add")
    page.select_option("#i-type", "2")
    page.wait_for_selector("#special:not(.hidden)")
    page.fill("#i-name", "上海某某服饰有限公司")
    page.click("#save")
    page.wait_for_selector("#message.error")
    assert "纳税人识别号" in page.inner_text("#message")
    page.fill("#i-code", "91310000MA1FL0XX2K")
    page.fill("#i-address", "上海市静安区南京西路1266号")
    page.fill("#i-tel", "021-62880000")
    page.fill("#i-bank", "招商银行上海分行")
    page.fill("#i-account", "121908888810001")
    shots(page, "invoice-form")
    page.click("#save")
    page.wait_for_selector("#invoice-1")
    assert "增值税专用发票" in page.inner_text("#invoice-1")
    shots(page, "invoices")


def test_a_follower_without_a_card_has_no_profile(phone_for, server, shots):
    page = phone_for("oStranger", "/m/profile")
    page.wait_for_selector("#to-bind")
    shots(page, "profile-unbound")


def test_messages_with_unread_counts_and_prepaid_records(phone_for, member, server, shots):
    staff(
        server.app,
        "POST",
        "/api/announcements",
        {"contents": "双十一会员日：全场积分翻倍", "url": "/m/shake"},
    )
    page = phone_for("oPhone")
    page.wait_for_selector("#entry-messages .weui-badge")
    assert page.inner_text("#entry-messages .weui-badge") == "2"  # the prize, the announcement
    page.click("#entry-messages")
    page.wait_for_url("**/m/messages")
    assert "恭喜您摇中了现金券" in page.inner_text("#rows")
    assert page.inner_text("#unread-announcements") == "1"
    shots(page, "messages")
    page.click("#tab-announcements")
    page.wait_for_url("**/m/messages?tab=announcements")
    assert "双十一会员日" in page.inner_text("#rows")
    shots(page, "messages-announcements")
    page.go_back()
    page.go_back()
    page.wait_for_selector("#card")
    assert page.locator("#entry-messages .weui-badge").count() == 0  # all read now

    page.click("#entry-prepaid")
    page.wait_for_url("**/m/prepaid")
    page.wait_for_selector("#balance")
    shots(page, "prepaid-from-center")


def test_prepaid_records_of_the_verified_mobile(phone_for, server, shots):
    state = server.app.extensions["wxmember"].crm_simulator.app.extensions["crm_state"]
    card = next(
        m
        for m in state.members.values()
        if m["MOBILE_CHECKED"] and m["MOBILE_TELEPHONE_NO"] in state.prepaid
    )
    sim = Sim(server.app)
    assert Member(server.app, "oSaver", sim).bind(card["MOBILE_TELEPHONE_NO"]).status_code == 200
    page = phone_for("oSaver", "/m/prepaid")
    page.wait_for_selector("#rows")
    assert page.inner_text("#balance").startswith("¥")
    shots(page, "prepaid")


def test_a_follower_without_a_card_sees_announcements_and_why_no_prepaid(phone_for, server, shots):
    staff(server.app, "POST", "/api/announcements", {"contents": "新店开业，欢迎光临"})
    page = phone_for("oStranger", "/m/messages?tab=announcements")
    page.wait_for_selector("#rows")
    shots(page, "messages-unbound")
    page.goto(server.url + "/m/prepaid")
    page.wait_for_selector("#to-bind")
    shots(page, "prepaid-unbound")

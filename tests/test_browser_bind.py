"""The binding page in a real (headless) Chromium: what a member sees and taps.

Needs /usr/bin/chromium (Debian's package) and Python's playwright; skipped
without them unless WXMEMBER_REQUIRE_BROWSER is set (as CI does), then it fails.
"""

import os
from urllib.parse import quote, urlsplit

import pytest

from tests.conftest import LiveServer, database_of
from tests.crm_helpers import Sim

pytestmark = pytest.mark.browser


@pytest.fixture
def server(make_app):
    app = make_app(crm={"timeout_s": 2, "retries": 0})
    server = LiveServer(app)
    yield server
    server.stop()


@pytest.fixture
def phone(browser, server):
    """A phone-sized page logged in as oBrowser, on the binding page."""
    context = browser.new_context(viewport={"width": 375, "height": 740}, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{server.url}/m/dev/login?openid=oBrowser&next=/m/bind")
    page.wait_for_selector("#unbound:not(.hidden)")
    yield page
    context.close()


def test_member_binds_and_unbinds_a_card_in_the_browser(phone, server, tmp_path):
    sim = Sim(server.app)
    card = sim.a_member(verified=True)
    mobile, number = card["MOBILE_TELEPHONE_NO"], card["MEM_CARD_NO"]

    phone.fill("#mobile", mobile)
    phone.click("#send")
    phone.wait_for_selector("#message.ok")
    assert "验证码已发送至" in phone.inner_text("#message")
    assert phone.is_disabled("#send")  # the 60-second countdown
    phone.fill("#code", sim.last_code(mobile))
    phone.click("#submit")
    phone.wait_for_selector("#message.ok:has-text('绑定成功')")  # said before moving on
    phone.wait_for_url("**/m/")  # then the member center
    phone.screenshot(path=os.environ.get("WXMEMBER_SCREENSHOT", str(tmp_path / "bound.png")))

    assert phone.inner_text("#card-number") == number[:3] + "*" * (len(number) - 7) + number[-4:]
    assert phone.inner_text("#card-type") in ("白卡", "VIP卡", "白金VIP卡")
    saved = database_of(server.app)["welab/customers"].find_one({"wechatid": "oBrowser"})
    assert saved["isRegister"] is True

    phone.goto(f"{server.url}/m/bind")  # the bound view: the card, its figures, the way on
    phone.wait_for_selector("#bound:not(.hidden)")
    assert phone.inner_text("#card-mobile") == f"{mobile[:3]}****{mobile[-4:]}"
    assert phone.inner_text("#to-center") == "进入会员中心"
    assert phone.is_hidden("#unbind-submit")  # unbinding is a step away, not the main button

    database_of(server.app)["wxmember/rate_limits"].delete_many({})  # a minute later
    phone.click("#unbind-open")
    phone.click("#unbind-send")
    phone.wait_for_selector("#unbind-message.ok")
    phone.fill("#unbind-code", sim.last_code(mobile))
    phone.click("#unbind-submit")
    phone.wait_for_selector("#unbind-dialog .weui-dialog")
    phone.click("#unbind-dialog .js-no")  # thought better of it: still bound
    assert database_of(server.app)["welab/customers"].find_one({"wechatid": "oBrowser"})[
        "isRegister"
    ]
    phone.click("#unbind-submit")
    phone.click("#unbind-confirm")
    phone.wait_for_selector("#unbound:not(.hidden)")
    assert phone.inner_text("#message") == "已解除绑定"


def test_card_number_field_appears_when_the_crm_asks_for_it(phone, server):
    sim = Sim(server.app)
    card = sim.a_member(verified=False)
    mobile = card["MOBILE_TELEPHONE_NO"]
    assert phone.is_hidden("#card-field")

    phone.fill("#mobile", mobile)
    phone.click("#send")
    phone.wait_for_selector("#message.ok")
    phone.fill("#code", sim.last_code(mobile))
    phone.click("#submit")
    phone.wait_for_selector("#card-field:not(.hidden)")
    assert "卡号" in phone.inner_text("#message")

    phone.fill("#card", card["MEM_CARD_NO"])
    phone.click("#submit")
    phone.wait_for_url("**/m/")
    assert phone.inner_text("#card-number")[-4:] == card["MEM_CARD_NO"][-4:]


def test_wrong_code_shows_a_chinese_error(phone, server):
    sim = Sim(server.app)
    mobile = sim.a_member()["MOBILE_TELEPHONE_NO"]
    phone.fill("#mobile", mobile)
    phone.click("#send")
    phone.wait_for_selector("#message.ok")
    phone.fill("#code", "000000" if sim.last_code(mobile) != "000000" else "111111")
    phone.click("#submit")
    phone.wait_for_selector("#message.error")
    assert phone.inner_text("#message") == "验证码错误，请重新输入"


def test_member_shakes_with_the_button_on_the_shake_page(browser, server):
    from jobs.runner import run_job

    services = server.app.extensions["wxmember"]
    run_job(services, "activities")
    now = int(__import__("time").time() * 1000)
    services.shake_activities.create(
        {
            "name": "周末摇一摇",
            "start": now - 1000,
            "end": now + 3_600_000,
            "points": 5,
            "prizes": [
                {
                    "promotion_code": "CQL201404010004",
                    "lottery_chance": 100,
                    "stock": 3,
                    "display_name": "现金券",
                }
            ],
        }
    )
    sim = Sim(server.app)
    card = sim.a_member()
    context = browser.new_context(viewport={"width": 375, "height": 740}, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{server.url}/m/dev/login?openid=oShaker&next=/m/bind")
    page.fill("#mobile", card["MOBILE_TELEPHONE_NO"])
    page.click("#send")
    page.wait_for_selector("#message.ok")
    page.fill("#code", sim.last_code(card["MOBILE_TELEPHONE_NO"]))
    page.click("#submit")
    page.wait_for_url("**/m/")
    services.background.shutdown()
    services.members.points.adjust(card["MEMBER_ID"], 20, "测试", "BROWSER")

    page.goto(f"{server.url}/m/shake")
    page.wait_for_selector("#game:not(.hidden)")
    before = int(page.inner_text("#my-points"))
    assert page.inner_text("#activity-name") == "周末摇一摇"
    page.click("#shake")
    page.wait_for_selector("#result.ok")
    if os.environ.get("WXMEMBER_SCREENSHOT"):
        page.screenshot(path=os.environ["WXMEMBER_SCREENSHOT"].replace(".png", "-shake.png"))

    assert "恭喜您摇中了现金券" in page.inner_text("#result")
    page.wait_for_function(f"document.getElementById('my-points').textContent == '{before - 5}'")
    context.close()


# -- next= after login, as a real browser follows it ------------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        "/\\evil.example",  # a browser reads "\" as "/": "//evil.example"
        "\t//evil.example",  # and drops tabs
        "/m/%2e%2e/%2e%2e//evil.example",  # and reads %2e%2e as ".."
        "/m/.%2E/api/logs",
        "/m/%2F%2Fevil.example",
        "/m//evil.example",
        "/m/shake",
    ],
)
def test_login_never_sends_the_browser_off_our_member_pages(browser, server, target):
    ours = urlsplit(server.url).netloc
    page = browser.new_context().new_page()
    elsewhere = []
    page.on("request", lambda r: urlsplit(r.url).netloc != ours and elsewhere.append(r.url))
    page.goto(f"{server.url}/m/dev/login?openid=oRedirect&next={quote(target, safe='')}")
    landed = urlsplit(page.url)
    assert landed.netloc == ours and landed.path.startswith("/m/"), page.url
    assert elsewhere == []
    if target == "/m/shake":
        assert landed.path == "/m/shake"

"""The staff console in a real (headless) Chromium: sign-in, logs with a filter, an Excel
export downloaded and read back, the customer page, a points adjustment, a viewer refused;
at a laptop's width (1366) and a tablet's (768).

Needs /usr/bin/chromium (Debian's package) and Python's playwright; skipped without them
unless WXMEMBER_REQUIRE_BROWSER is set (as CI does), then it fails. With
WXMEMBER_SCREENSHOT=/dir/name.png the screenshots go beside that path (name-console-*.png).
"""

import os

import openpyxl
import pytest

from tests.conftest import LiveServer, database_of
from tests.console_helpers import MEMBER, PASSWORD, add_staff, bind_member

LAPTOP = {"width": 1366, "height": 800}
TABLET = {"width": 768, "height": 1024}
BASE = 1_780_000_000_000  # 2026-05-29 04:26:40 in Shanghai

pytestmark = pytest.mark.browser


@pytest.fixture
def server(make_app):
    app = make_app()
    database = database_of(app)
    database["lavico/user/logs"].insert_many(
        [
            {
                "createTime": BASE + i * 60_000,
                "wxid": "oMember" if i % 3 == 0 else f"oFan{i % 5}",
                "action": "text" if i % 2 == 0 else "click",
                "data": {"Content": f"留言{i}", "MsgId": str(9000 + i)}
                if i % 2 == 0
                else {"EventKey": f"KEY_{i}", "Event": "CLICK"},
            }
            for i in range(40)
        ]
    )
    bind_member(app)
    system = app.extensions["wxmember"].members
    system.grades.save({"level": 1, "name": "普通会员", "discount": 1})
    system.points.adjust(MEMBER, 120, "开卡礼", "OPEN-1")
    system.money.recharge(MEMBER, 25000, "R1")
    for username, role in (("adam", "admin"), ("olivia", "operator"), ("victor", "viewer")):
        add_staff(app, username, role)
    server = LiveServer(app)
    yield server
    server.stop()


def _shot(page, tmp_path, name):
    base = os.environ.get("WXMEMBER_SCREENSHOT")
    path = base.replace(".png", f"-console-{name}.png") if base else str(tmp_path / f"{name}.png")
    page.screenshot(path=path, full_page=True)


def _signed_in(browser, server, username, viewport=LAPTOP):
    context = browser.new_context(viewport=viewport, locale="zh-CN", accept_downloads=True)
    page = context.new_page()
    page.goto(f"{server.url}/console")
    page.wait_for_selector("#login-form")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#submit")
    page.wait_for_selector("#who")
    return context, page


def test_staff_sign_in_filter_logs_and_export_them_to_excel(browser, server, tmp_path):
    context = browser.new_context(viewport=LAPTOP, locale="zh-CN", accept_downloads=True)
    page = context.new_page()
    page.goto(f"{server.url}/console/logs")
    assert page.url.startswith(f"{server.url}/console/login")
    _shot(page, tmp_path, "login")
    page.fill("#username", "adam")
    page.fill("#password", "not-the-password")
    page.click("#submit")
    assert page.inner_text("#message") == "用户名或密码错误。"
    page.fill("#password", PASSWORD)
    page.click("#submit")
    page.wait_for_selector("#log-table")
    assert page.url == f"{server.url}/console/logs"  # back to the page asked for
    assert page.inner_text("#who") == "adam" and page.inner_text("#role") == "管理员"

    page.select_option("#action", "text")
    page.fill("#since", "2026-05-29T04:46")  # BASE + 20 minutes
    page.click("#search")
    page.wait_for_url("**/console/logs?*action=text*")
    actions = page.locator("#log-table td.action .tag").all_inner_texts()
    assert actions == ["文本消息"] * 10
    assert "留言38" in page.inner_text("#log-table tbody tr:first-child")
    _shot(page, tmp_path, "logs")

    with page.expect_download() as waiting:
        page.click("#export-xlsx")
    download = waiting.value
    assert download.suggested_filename.endswith(".xlsx")
    saved = tmp_path / "logs.xlsx"
    download.save_as(saved)
    rows = list(openpyxl.load_workbook(saved).active.iter_rows(values_only=True))
    assert rows[0] == ("时间", "用户openid", "动作", "动作说明", "数据")
    assert len(rows) == 11
    assert all(row[2] == "text" and row[3] == "文本消息" for row in rows[1:])
    assert rows[1][0] == "2026-05-29 05:04:40" and '"留言38"' in rows[1][4]
    page.wait_for_selector("#export-text:has-text('导出完成')")  # the page's progress
    assert "共 10 条" in page.inner_text("#export-text")
    _shot(page, tmp_path, "logs-exported")

    page.click("#log-table tr:has-text('留言36') td.wxid a")  # oMember's text
    page.wait_for_selector("#profile")
    assert page.inner_text("#wxid") == "oMember"
    context.close()


def test_the_customer_page_and_an_operators_points_adjustment(browser, server, tmp_path):
    context, page = _signed_in(browser, server, "olivia")
    page.click("nav >> text=会员查询")
    page.fill("#q", "13912340000")
    page.click("#search")
    page.wait_for_selector("#profile")
    assert page.inner_text("#mobile") == "13912340000"
    assert page.inner_text("#card") == "V0016426780"
    assert page.inner_text("#balance-points strong") == "120"
    assert page.inner_text("#balance-money strong") == "250.00"
    assert page.inner_text("#grade-name") == "普通会员"

    page.fill("#amount", "-20")
    page.fill("#reason", "客诉补偿")
    page.click("#adjust")
    page.wait_for_selector("#notice")
    assert page.inner_text("#notice") == "积分已调整。"
    assert page.inner_text("#balance-points strong") == "100"
    first_row = page.inner_text("#ledger-points tbody tr:first-child")
    assert "客诉补偿" in first_row and "olivia" in first_row
    _shot(page, tmp_path, "customer")

    page.click("#toggle-lock")
    page.wait_for_selector("#notice")
    assert page.inner_text("#lock-state").startswith("已锁定")
    context.close()


def test_a_viewer_sees_masked_numbers_and_is_refused_a_change(browser, server, tmp_path):
    context, page = _signed_in(browser, server, "victor", viewport=TABLET)
    page.goto(f"{server.url}/console/customers/oMember")
    page.wait_for_selector("#profile")
    assert page.inner_text("#mobile") == "139****0000"
    assert page.inner_text("#card") == "V00****6780"
    assert page.locator("#adjust-form").count() == 0
    _shot(page, tmp_path, "customer-viewer-tablet")

    # The viewer forges the operator's form (with a valid CSRF token of the session).
    status = page.evaluate(
        """async () => {
            const token = document.querySelector("input[name=csrf_token]").value;
            const body = new URLSearchParams({csrf_token: token, amount: "500",
                                              reason: "我给自己加分", formId: "forged-1"});
            const answer = await fetch("/console/customers/oMember/points",
                                       {method: "POST", body});
            return answer.status;
        }"""
    )
    assert status == 403
    services = server.app.extensions["wxmember"]
    assert services.members.points.balance(MEMBER) == 120
    page.goto(f"{server.url}/console/audit")
    assert "没有权限" in page.inner_text("h1")
    assert "无权执行此操作" in page.inner_text("#message")
    _shot(page, tmp_path, "refused-tablet")
    context.close()


def test_the_pages_fit_a_tablet_and_the_audit_reads_for_an_admin(browser, server, tmp_path):
    context, page = _signed_in(browser, server, "adam", viewport=TABLET)
    _shot(page, tmp_path, "home-tablet")
    page.goto(f"{server.url}/console/logs")
    page.wait_for_selector("#log-table")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= TABLET["width"]  # nothing but the table itself scrolls sideways
    _shot(page, tmp_path, "logs-tablet")
    page.goto(f"{server.url}/console/audit")
    page.wait_for_selector("#audit-table")
    assert "登录" in page.inner_text("#audit-table")
    _shot(page, tmp_path, "audit-tablet")
    page.click("nav >> text=会员查询")
    page.fill("#q", "13800000000")
    page.click("#search")
    page.wait_for_selector("#no-result")
    assert "没有找到“13800000000”" in page.inner_text("#no-result")
    _shot(page, tmp_path, "customers-none-tablet")
    context.close()
    context, page = _signed_in(browser, server, "adam")
    page.goto(f"{server.url}/console/audit")
    _shot(page, tmp_path, "audit")
    context.close()

"""The console's operations pages in a real (headless) Chromium: the dashboard's charts
drawn by the vendored ECharts under the strict CSP, a shake activity created through
the form, a job run now and followed to its end, a rules page, drift and withdrawals,
staff accounts; a viewer refused a change; at a laptop's width (1366) and a tablet's (768).

The ``browser`` fixture is tests/browser.py's (skipped without Debian's Chromium);
WXMEMBER_SCREENSHOT=/dir/x.png puts the screenshots beside that path as x-console-*.png.
"""

import pytest
import requests

from tests.conftest import LiveServer, database_of
from tests.console_helpers import MEMBER, add_staff
from tests.console_seed import PRIZE_A, PRIZE_B, seed_everything
from tests.test_browser_console import TABLET, _shot, _signed_in

pytestmark = pytest.mark.browser


@pytest.fixture
def server(make_app):
    app = make_app()
    services = app.extensions["wxmember"]
    running, _ = seed_everything(app, services.clock.now_ms())
    for username, role in (("adam", "admin"), ("olivia", "operator"), ("victor", "viewer")):
        add_staff(app, username, role)
    server = LiveServer(app)
    server.running_aid = running["aid"]
    yield server
    server.stop()


def _watch_csp(page):
    """Collect what the browser reports as blocked (CSP) or failed in the page's scripts."""
    problems = []
    page.on(
        "console",
        lambda message: (
            problems.append(message.text)
            if message.type == "error" or "Content Security Policy" in message.text
            else None
        ),
    )
    page.on("pageerror", lambda error: problems.append(str(error)))
    return problems


def _charts_drawn(page, ids):
    """Each chart box has an ECharts instance and a drawn canvas."""
    page.wait_for_selector(f"#{ids[-1]}[data-ready='1'] canvas")
    for chart in ids:
        assert page.locator(f"#{chart} canvas").count() >= 1, chart
        assert page.evaluate(f"!!echarts.getInstanceByDom(document.getElementById('{chart}'))")


def test_the_dashboard_draws_its_charts_and_filters_by_window(browser, server, tmp_path):
    context, page = _signed_in(browser, server, "victor")
    problems = _watch_csp(page)
    page.click("nav >> text=数据看板")
    charts = ["chart-follows", "chart-bindings", "chart-grades", "chart-shakes", "chart-coupons"]
    _charts_drawn(page, charts)
    assert page.evaluate("echarts.version") == "6.1.0"
    option = page.evaluate(
        "echarts.getInstanceByDom(document.getElementById('chart-follows')).getOption()"
    )
    assert [s["name"] for s in option["series"]] == ["关注", "取消关注", "净增"]
    assert len(option["xAxis"][0]["data"]) == 30
    grades = page.evaluate(
        "echarts.getInstanceByDom(document.getElementById('chart-grades')).getOption()"
    )["series"][0]["data"]
    assert [(d["name"], d["value"]) for d in grades] == [
        ("普通会员", 40),
        ("金卡会员", 12),
        ("钻石会员", 3),
    ]
    box = page.locator("#chart-follows").bounding_box()  # a tooltip, drawn in the canvas
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_timeout(500)
    month = int(page.inner_text("#total-follows"))
    assert page.inner_text("#health-activities .health") == "正常"
    _shot(page, tmp_path, "dashboard")

    page.select_option("#days", "7")
    page.click("#search")
    page.wait_for_url("**/console/dashboard?days=7")
    _charts_drawn(page, charts)
    week = int(page.inner_text("#total-follows"))
    assert 0 < week < month
    option = page.evaluate(
        "echarts.getInstanceByDom(document.getElementById('chart-follows')).getOption()"
    )
    assert len(option["xAxis"][0]["data"]) == 7
    assert problems == []  # nothing the CSP blocked (an HTML tooltip's styles), no error
    context.close()

    context, page = _signed_in(browser, server, "victor", viewport=TABLET)
    problems = _watch_csp(page)
    page.goto(f"{server.url}/console/dashboard")
    _charts_drawn(page, charts)
    assert page.evaluate("document.documentElement.scrollWidth") <= TABLET["width"]
    _shot(page, tmp_path, "dashboard-tablet")
    assert problems == []
    context.close()


def test_an_operator_creates_an_activity_through_the_form_and_pauses_it(browser, server, tmp_path):
    context, page = _signed_in(browser, server, "olivia")
    page.click("nav >> text=摇一摇活动")
    page.wait_for_selector("#activity-table")
    assert "周末摇一摇" in page.inner_text("#activity-table")

    page.fill("#name", "双十一摇一摇")
    page.fill("#points", "5")
    page.fill("#limit", "2")
    rows = page.locator("#prize-rows tbody tr")
    rows.nth(0).locator("select").select_option(PRIZE_A)
    rows.nth(0).locator("input[name=lottery_chance]").fill("80")
    rows.nth(0).locator("input[name=stock]").fill("100")
    rows.nth(1).locator("select").select_option(PRIZE_B)
    rows.nth(1).locator("input[name=lottery_chance]").fill("30")
    rows.nth(1).locator("input[name=stock]").fill("10")
    page.click("#create")
    page.wait_for_selector("#error")
    assert page.inner_text("#error") == "各奖品的中奖概率加起来不能超过100%"  # the API's check
    assert page.input_value("#name") == "双十一摇一摇"  # what was typed is kept

    page.locator("#prize-rows tbody tr").nth(1).locator("input[name=lottery_chance]").fill("15.5")
    page.click("#add-prize")
    assert page.locator("#prize-rows tbody tr").count() == 4
    _shot(page, tmp_path, "activity-form")
    page.click("#create")
    page.wait_for_selector("#notice")
    assert page.inner_text("#notice") == "活动已创建。"
    assert page.inner_text("h1") == "摇一摇活动：双十一摇一摇"
    assert "15.5%" in page.inner_text("#prize-table")
    page.click("#pause")
    page.wait_for_selector("#resume")
    assert page.inner_text("#activity-state") == "已暂停"

    page.click("text=« 返回活动列表")
    page.select_option("#state", "paused")
    page.click("#search")
    page.wait_for_url("**state=paused")
    names = page.locator("#activity-table tbody td:first-child").all_inner_texts()
    assert sorted(names) == ["会员日抽奖", "双十一摇一摇"]
    _shot(page, tmp_path, "activities")

    page.goto(f"{server.url}/console/activities/{server.running_aid}")
    page.wait_for_selector("#chart-days[data-ready='1'] canvas")
    assert page.inner_text("#stat-shakes") == str(sum(24 - 2 * d for d in range(10)))
    _shot(page, tmp_path, "activity")
    page.set_viewport_size(TABLET)
    for path, name in (
        (f"activities/{server.running_aid}", "activity"),
        ("activities", "activities"),
    ):
        page.goto(f"{server.url}/console/{path}")
        assert page.evaluate("document.documentElement.scrollWidth") <= TABLET["width"]
        _shot(page, tmp_path, f"{name}-tablet")
    context.close()


def test_an_operator_runs_a_job_now_and_watches_it_finish(browser, server, tmp_path):
    context, page = _signed_in(browser, server, "olivia")
    page.click("nav >> text=定时任务")
    page.wait_for_selector("#job-grades")
    assert "从未运行" in page.inner_text("#job-grades")
    page.click("#run-grades")
    page.wait_for_selector("#watch")
    # a run that ended before the page was drawn is shown as ended; one still running is
    # followed by the page, which then loads again with the job's card up to date
    page.wait_for_selector("#job-grades .last-run .state.state-ok", timeout=20_000)
    assert page.inner_text("#run-state") == "完成"
    assert "运行完成" in page.inner_text("#run-text")
    assert page.locator("#runs-table tbody tr").first.locator(".state").inner_text() == "完成"

    # a slow CRM: the pull is still running when the page is drawn, and the page follows it
    requests.post(f"{server.url}/sim/faults", json={"latency_ms": 1500}, timeout=5)
    page.click("#run-activities")
    page.wait_for_selector("#watch")
    assert page.get_attribute("#watch", "data-state") == "running"
    assert page.inner_text("#run-state") == "运行中"
    _shot(page, tmp_path, "jobs-running")
    page.wait_for_selector("#run-state.state-ok", timeout=20_000)
    assert "运行完成" in page.inner_text("#run-text")
    page.wait_for_selector("#job-activities .last-run .state.state-ok", timeout=20_000)
    assert "done=" not in page.url  # loaded again, without the "started" notice
    assert "券活动 5" in page.inner_text("#job-activities .last-run")
    requests.post(f"{server.url}/sim/faults", json={"latency_ms": 0}, timeout=5)
    _shot(page, tmp_path, "jobs")

    page.select_option("#job", "activities")
    page.click("#search")
    page.wait_for_url("**job=activities")
    jobs = set(page.locator("#runs-table tbody td:nth-child(2)").all_inner_texts())
    assert jobs == {"券活动同步"}
    audit = (
        database_of(server.app)["wxmember/audit"]
        .find({"action": "job.run"})
        .sort([("time", 1), ("_id", 1)])
    )
    assert [(row["who"], row["target"]) for row in audit] == [
        ("olivia", "job:grades"),
        ("olivia", "job:activities"),
    ]
    context.close()

    context, page = _signed_in(browser, server, "olivia", viewport=TABLET)
    page.goto(f"{server.url}/console/jobs")
    assert page.evaluate("document.documentElement.scrollWidth") <= TABLET["width"]
    _shot(page, tmp_path, "jobs-tablet")
    context.close()


def test_an_admin_adds_a_point_rule_and_a_viewer_is_refused(browser, server, tmp_path):
    context, page = _signed_in(browser, server, "adam")
    page.click("nav >> text=积分规则")
    page.wait_for_selector("#rule-table")
    page.fill("#ruleId", "BASE-1")
    page.select_option("#grade", "2")
    page.fill("#amount", "0")
    page.fill("#points", "1")
    page.click("#save")
    assert page.inner_text("#error") == "每档金额须大于0。"
    page.fill("#amount", "10")
    page.click("#save")
    page.wait_for_selector("#notice")
    row = page.inner_text("#rule-table tbody tr:first-child")
    assert "BASE-1" in row and "金卡会员" in row and "10.00" in row
    _shot(page, tmp_path, "point-rules")
    temporary = {"ruleId": "TEMP-1", "type": "recharge", "amount": 1, "points": 1}
    server.app.extensions["wxmember"].members.points.rules.save(temporary)
    page.reload()
    page.once("dialog", lambda dialog: dialog.dismiss())  # 删除? no: the rule stays
    page.click("#delete-TEMP-1")
    assert "TEMP-1" in page.inner_text("#rule-table")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#delete-TEMP-1")
    page.wait_for_selector("#notice")
    assert "TEMP-1" not in page.inner_text("#rule-table") and "BASE-1" in page.inner_text(
        "#rule-table"
    )
    page.click("nav >> text=会员等级")
    page.wait_for_selector("#grade-table")
    _shot(page, tmp_path, "grades")
    page.set_viewport_size(TABLET)
    page.goto(f"{server.url}/console/grades?edit=1")
    assert page.input_value("#up_to") == "2"  # the grade's rule, ready to change
    assert page.evaluate("document.documentElement.scrollWidth") <= TABLET["width"]
    _shot(page, tmp_path, "grades-tablet")
    context.close()

    context, page = _signed_in(browser, server, "victor", viewport=TABLET)
    page.goto(f"{server.url}/console/point-rules")
    assert page.locator("#point-rule-form").count() == 0
    assert "只有管理员可以修改积分规则" in page.inner_text("#read-only")
    status = page.evaluate(
        """async () => {
            const token = document.querySelector("input[name=csrf_token]").value;
            const body = new URLSearchParams({csrf_token: token, ruleId: "BASE-1",
                type: "consumption", grade: "", amount: "1", points: "100"});
            return (await fetch("/console/point-rules", {method: "POST", body})).status;
        }"""
    )
    assert status == 403
    rule = server.app.extensions["wxmember"].members.points.rules.all()[0]
    assert (rule["amount"], rule["points"]) == (1000, 1)  # unchanged
    _shot(page, tmp_path, "point-rules-viewer-tablet")
    context.close()


def test_decisions_and_staff_pages_read_well(browser, server, tmp_path):
    context, page = _signed_in(browser, server, "olivia")
    page.click("nav >> text=提现审核")
    page.wait_for_selector("#withdrawal-table")
    assert page.locator("#withdrawal-table tbody.item").count() == 2
    smaller = page.locator("#withdrawal-table tbody.item", has_text="80.50")
    smaller.locator("input[name=memo]").fill("信息不全")
    smaller.locator("button.reject").click()
    page.wait_for_selector("#notice")
    assert page.locator("#withdrawal-table tbody.item").count() == 1
    page.locator("#withdrawal-table button.approve").click()
    page.wait_for_selector("#notice")
    assert "没有待审核的提现申请" in page.inner_text("#withdrawal-table")
    page.select_option("#status", "all")
    page.click("#search")
    page.wait_for_url("**status=all")
    _shot(page, tmp_path, "withdrawals")
    balances = server.app.extensions["wxmember"].members.ledger.balances(MEMBER)
    assert balances["earnings"] == 50_000 - 10_000  # the rejected 80.50 came back

    page.click("nav >> text=绑定差异")
    page.wait_for_selector("#drift-table")
    assert page.locator("#drift-table tbody.item").count() == 2
    page.locator("#drift-table tbody.item").first.locator("input[name=note]").fill("已联系会员核实")
    page.locator("#drift-table tbody.item").first.locator("button").click()
    page.wait_for_selector("#notice")
    assert page.locator("#drift-table tbody.item").count() == 1
    _shot(page, tmp_path, "drift")
    page.set_viewport_size(TABLET)
    for path in ("drift?state=all", "withdrawals?status=all"):
        page.goto(f"{server.url}/console/{path}")
        assert page.evaluate("document.documentElement.scrollWidth") <= TABLET["width"]
        _shot(page, tmp_path, path.split("?")[0] + "-tablet")
    context.close()

    context, page = _signed_in(browser, server, "victor", viewport=TABLET)
    page.goto(f"{server.url}/console/withdrawals?status=all")
    assert "6225880123456789" not in page.inner_text("#withdrawal-table")
    assert page.locator("#withdrawal-table form").count() == 0
    _shot(page, tmp_path, "withdrawals-viewer-tablet")
    page.goto(f"{server.url}/console/staff")
    assert "没有权限" in page.inner_text("h1")
    context.close()

    context, page = _signed_in(browser, server, "adam")
    page.click("nav >> text=员工账号")
    page.wait_for_selector("#staff-table")
    page.fill("#username", "xiaoli")
    page.select_option("#staff-role", "operator")
    page.fill("#password", "a-long-password")
    page.fill("#password2", "a-long-password")
    page.click("#save")
    page.wait_for_selector("#notice")
    assert "运营" in page.inner_text("#staff-xiaoli")
    page.click("#disable-xiaoli")
    page.wait_for_selector("#notice")
    assert "已停用" in page.inner_text("#staff-xiaoli")
    _shot(page, tmp_path, "staff")
    page.set_viewport_size(TABLET)
    page.goto(f"{server.url}/console")
    _shot(page, tmp_path, "home-admin-tablet")
    context.close()


def test_an_operator_publishes_an_announcement(browser, server, tmp_path):
    context, page = _signed_in(browser, server, "olivia", viewport=TABLET)
    page.click("nav >> text=会员公告")
    page.wait_for_selector("#publish-form")
    page.fill("#contents", "双十二会员日：全场满200减30，12月12日当天有效。")
    page.fill("#url", "http://example.com/")
    page.click("#publish")
    assert "链接须为会员中心页面" in page.inner_text("#error")
    page.fill("#url", "/m/coupons?status=claim")
    page.click("#publish")
    page.wait_for_selector("#notice")
    row = page.inner_text("#announcement-table tbody tr:first-child")
    assert "双十二会员日" in row and "olivia" in row
    assert page.evaluate("document.documentElement.scrollWidth") <= TABLET["width"]
    _shot(page, tmp_path, "announcements-tablet")
    context.close()

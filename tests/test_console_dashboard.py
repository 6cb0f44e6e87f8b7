"""The dashboard: daily counts from the owning stores (Shanghai days, a bounded window),
shakes and wins per activity, the grade distribution, job health; the chart data reaches
the page as JSON for our own script; ECharts is the vendored, pinned file."""

import hashlib
import json
import re
from pathlib import Path

import pytest

from tests.conftest import database_of
from tests.console_seed import PRIZE_A, pull_coupons, seed_everything, seed_grades, seed_shakes
from wxmember.timeparse import DAY_MS, day_start

# 2026-05-29 00:00 in Shanghai (UTC+8) is 2026-05-28T16:00Z
MIDNIGHT = 1_779_984_000_000
VENDOR = Path(__file__).parent.parent / "wxmember/web/console/static/vendor"


def _log(database, action, at, wxid="oFan"):
    database["lavico/user/logs"].insert_one(
        {"createTime": at, "wxid": wxid, "action": action, "data": {}}
    )


def test_logs_per_day_counts_each_action_by_shanghai_day(app):
    database = database_of(app)
    assert day_start(MIDNIGHT + 5 * 3_600_000) == MIDNIGHT
    _log(database, "subscribe", MIDNIGHT - 1)  # 23:59:59.999 on the 28th
    _log(database, "subscribe", MIDNIGHT)  # 00:00 on the 29th
    _log(database, "subscribe", MIDNIGHT + DAY_MS - 1)
    _log(database, "unsubscribe", MIDNIGHT + DAY_MS)
    _log(database, "text", MIDNIGHT + 10)  # not asked for
    _log(database, "subscribe", MIDNIGHT + 2 * DAY_MS)  # after the window
    counts = app.extensions["wxmember"].records.logs.per_day(
        ["subscribe", "unsubscribe", "bind"], MIDNIGHT - DAY_MS, MIDNIGHT + 2 * DAY_MS
    )
    assert counts == {
        "subscribe": {"2026-05-28": 1, "2026-05-29": 2},
        "unsubscribe": {"2026-05-30": 1},
        "bind": {},
    }


def test_draws_per_day_count_finished_shakes_and_wins_of_one_activity(app):
    pull_coupons(app)
    services = app.extensions["wxmember"]
    running, paused = seed_shakes(app, MIDNIGHT + 12 * 3_600_000)
    database_of(app)["shake/draws"].insert_many(
        [
            {"_id": "open", "aid": running["aid"], "state": "drawing", "createDate": MIDNIGHT},
            {"_id": "other", "aid": paused["aid"], "state": "done", "createDate": MIDNIGHT},
        ]
    )
    days = services.shakes.per_day(running["aid"], MIDNIGHT - DAY_MS, MIDNIGHT + DAY_MS)
    # seed_shakes: 24 draws today (5 wins of A, 2 of B), 22 the day before (5 + 2)
    assert days == {
        "2026-05-28": {"shakes": 22, "wins": 7},
        "2026-05-29": {"shakes": 24, "wins": 7},
    }


def test_grade_distribution_counts_members_per_level(app, viewer):
    seed_grades(app)
    grades = app.extensions["wxmember"].members.grades
    assert grades.distribution() == {1: 40, 2: 12, 3: 3}
    database_of(app)["member/data"].insert_one({"_id": 1, "GradeID": 9, "Purview": []})
    assert grades.distribution() == {1: 40, 2: 12, 3: 3, None: 1}  # a level since removed
    pie = _charts(viewer.get("/console/dashboard").get_data(as_text=True))["grades"]
    assert pie["series"][0]["data"][-1] == {"name": "未定级", "level": None, "value": 1}


def _charts(html):
    found = re.search(r'<script type="application/json" id="chart-data">(.*?)</script>', html, re.S)
    return json.loads(found.group(1))


def test_the_dashboard_shows_a_month_by_default_and_a_week_when_asked(app, viewer):
    now = app.extensions["wxmember"].clock.now_ms()
    seed_everything(app, now)
    html = viewer.get("/console/dashboard").get_data(as_text=True)
    charts = _charts(html)
    follows = charts["follows"]
    assert len(follows["x"]) == 30 and follows["x"][-1] == _label(now)
    assert [s["name"] for s in follows["series"]] == ["关注", "取消关注", "净增"]
    month = sum(follows["series"][0]["data"])
    assert f'id="total-follows">{month}<' in html
    assert sum(charts["bindings"]["series"][0]["data"]) == sum((d * 3) % 5 for d in range(30))
    shakes = {s["name"]: s for s in charts["shakes"]["series"]}
    assert sum(n or 0 for n in shakes["周末摇一摇 摇奖"]["data"]) == sum(
        24 - 2 * d for d in range(10)
    )
    assert shakes["会员日抽奖 摇奖"]["data"][:24] == [None] * 24  # before it started: a gap
    assert [(g["name"], g["value"]) for g in charts["grades"]["series"][0]["data"]] == [
        ("普通会员", 40),
        ("金卡会员", 12),
        ("钻石会员", 3),
    ]
    assert 'id="health-activities"' in html and "正常" in html  # the pull ran just now
    week = _charts(viewer.get("/console/dashboard?days=7").get_data(as_text=True))
    assert len(week["follows"]["x"]) == 7
    assert 0 < sum(week["follows"]["series"][0]["data"]) < month
    odd = _charts(viewer.get("/console/dashboard?days=365").get_data(as_text=True))
    assert len(odd["follows"]["x"]) == 30  # only the windows offered


def _label(ms):
    from datetime import datetime

    from wxmember.timeparse import SHANGHAI

    return datetime.fromtimestamp(ms / 1000, SHANGHAI).strftime("%Y-%m-%d")


def test_the_chart_data_cannot_close_its_script_block(app, viewer):
    pull_coupons(app)
    now = app.extensions["wxmember"].clock.now_ms()
    app.extensions["wxmember"].shake_activities.create(
        {
            "name": "</script><script>alert(1)</script>",
            "start": now - DAY_MS,
            "end": now + DAY_MS,
            "prizes": [{"promotion_code": PRIZE_A, "lottery_chance": 10, "stock": 1}],
        }
    )
    html = viewer.get("/console/dashboard").get_data(as_text=True)
    assert "<script>alert(1)" not in html
    names = [s["name"] for s in _charts(html)["shakes"]["series"]]
    assert names[0] == "</script><script>alert(1)</script> 摇奖"


def test_the_dashboard_loads_only_our_own_scripts_under_the_strict_csp(viewer):
    answer = viewer.get("/console/dashboard")
    assert "script-src 'self'" in answer.headers["Content-Security-Policy"]
    assert "unsafe" not in answer.headers["Content-Security-Policy"]
    html = answer.get_data(as_text=True)
    sources = re.findall(r"<script[^>]*\bsrc=\"([^\"]+)\"", html)
    assert sources == [
        "/console/static/vendor/echarts-6.1.0.min.js",
        "/console/static/console-charts.js",
        "/console/static/console.js",
    ]
    inline = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", html)
    assert inline == [' type="application/json" id="chart-data"']  # data, never code
    assert viewer.get("/console/static/vendor/echarts-6.1.0.min.js").status_code == 200


def test_the_vendored_echarts_is_the_pinned_release_with_its_licence():
    data = (VENDOR / "echarts-6.1.0.min.js").read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    assert digest in (VENDOR / "README.md").read_text()
    assert b't.version="6.1.0"' in data
    assert "Apache License" in (VENDOR / "echarts-6.1.0.LICENSE").read_text()
    assert (VENDOR / "echarts-6.1.0.NOTICE").exists()


@pytest.mark.parametrize("role", ["viewer", "operator", "admin"])
def test_every_role_reads_the_dashboard(app, role):
    from tests.console_helpers import Console

    console = Console(app, f"someone-{role}", role)
    answer = console.get("/console/dashboard")
    assert answer.status_code == 200 and "数据看板" in answer.get_data(as_text=True)


def test_coupons_issued_and_used_per_shanghai_day_reach_the_dashboard(app, viewer):
    database = database_of(app)
    rows = [
        ("A", MIDNIGHT - 1, None),  # issued 23:59:59.999 on the 28th
        ("B", MIDNIGHT, MIDNIGHT + DAY_MS),  # issued on the 29th, used on the 30th
        ("C", MIDNIGHT + 5, MIDNIGHT + 6),
        ("D", MIDNIGHT - 40 * DAY_MS, MIDNIGHT + 7),  # issued long before the window
    ]
    database["member/member_coupons"].insert_many(
        [
            {
                "_id": no,
                "issueKey": no,
                "couponId": "c",
                "memberID": 1,
                "issuedAt": at,
                "usedAt": used,
            }
            for no, at, used in rows
        ]
    )
    counts = app.extensions["wxmember"].members.wallet.per_day(
        MIDNIGHT - DAY_MS, MIDNIGHT + 2 * DAY_MS
    )
    assert counts == {
        "issued": {"2026-05-28": 1, "2026-05-29": 2},
        "used": {"2026-05-29": 2, "2026-05-30": 1},
    }
    html = viewer.get("/console/dashboard?days=7").get_data(as_text=True)
    assert 'id="chart-coupons"' in html and "每日发放与使用" in html

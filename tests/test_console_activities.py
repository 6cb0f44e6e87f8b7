"""Console shake activities: an operator creates one through the form (the API's checks,
refused in Chinese, nothing written), pauses and resumes it (audited); every role reads
the list (filtered by state) and an activity's prizes, stock, wins and days; a viewer's
change is 403 and changes nothing; a form without the CSRF token is refused."""

import json
import re

import pytest

from tests.conftest import STAFF_TOKEN, database_of
from tests.console_audit import audit_actions
from tests.console_seed import PRIZE_A, PRIZE_B, pull_coupons, seed_shakes
from wxmember.timeparse import to_ms

FORM = {
    "name": "双十一摇一摇",
    "start": "2026-11-11T00:00",
    "end": "2026-11-12T00:00",
    "points": "10",
    "chargeOnMiss": "1",
    "cycle": "day",
    "limit": "3",
    "promotion_code": [PRIZE_A, PRIZE_B, ""],
    "lottery_chance": ["30", "12.5", ""],
    "stock": ["100", "5", ""],
    "display_name": ["", "大奖", ""],
}


@pytest.fixture(autouse=True)
def coupons(app):
    pull_coupons(app)


def _create(console, **changes):
    return console.post("/console/activities", {**FORM, **changes}, page="/console/activities")


def _activities(app):
    return app.extensions["wxmember"].shake_activities.all()


def test_an_operator_creates_an_activity_from_the_form(app, operator):
    answer = _create(operator)
    assert answer.status_code == 302
    (activity,) = _activities(app)
    assert answer.headers["Location"] == f"/console/activities/{activity['aid']}?done=created"
    assert (
        activity["start"] == to_ms("2026-11-11T00:00") == 1_794_326_400_000
    )  # 16:00Z the day before
    assert (activity["points"], activity["cycle"], activity["limit"]) == (10, "day", 3)
    assert activity["chargeOnMiss"] is True and activity["active"] is True
    prizes = [(p["promotion_code"], p["lottery_chance"], p["stock"]) for p in activity["prizes"]]
    assert prizes == [(PRIZE_A, 30, 100), (PRIZE_B, 12.5, 5)]
    assert [p["display_name"] for p in activity["prizes"]] == ["返店券", "大奖"]
    row = database_of(app)["wxmember/audit"].find_one({"action": "activity.create"})
    assert (row["who"], row["target"]) == ("olivia", f"activity:{activity['aid']}")
    html = operator.get(answer.headers["Location"]).get_data(as_text=True)
    assert "活动已创建" in html and "大奖" in html and "12.5%" in html


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"lottery_chance": ["80", "30", ""]}, "各奖品的中奖概率加起来不能超过100%"),
        ({"name": "  "}, "请填写活动名称"),
        ({"end": "2026-11-10T00:00"}, "结束时间须晚于开始时间"),
        ({"promotion_code": ["", "", ""]}, "请至少设置一个奖品"),
        ({"promotion_code": [PRIZE_A, PRIZE_A, ""]}, "同一张券不能设为两个奖品"),
        ({"promotion_code": ["NO-SUCH", "", ""]}, "券活动“NO-SUCH”不存在或已下线"),
        ({"lottery_chance": ["120", "", ""]}, "奖品1的中奖概率须在0到100之间"),
        ({"points": "十"}, "每次消耗积分须为整数"),
        ({"stock": ["-1", "5", ""]}, "奖品1的库存须在0到"),
        ({"start": "下周一"}, "开始时间格式不正确"),
        ({"cycle": "year"}, "请选择次数周期"),
    ],
)
def test_a_form_the_api_would_refuse_is_refused_in_chinese_and_writes_nothing(
    app,
    operator,
    changes,
    message,
):
    answer = _create(operator, **changes)
    assert answer.status_code == 400
    html = answer.get_data(as_text=True)
    assert message in html
    assert 'id="error"' in html
    if "name" not in changes:
        assert 'value="双十一摇一摇"' in html  # what was typed is shown again
    assert _activities(app) == []
    assert audit_actions(app) == []


def test_the_console_gives_the_same_refusal_as_the_api_in_chinese(app, operator):
    body = {
        "name": "周末",
        "start": 1,
        "end": 2,
        "prizes": [
            {"promotion_code": PRIZE_A, "lottery_chance": 60, "stock": 1},
            {"promotion_code": PRIZE_B, "lottery_chance": 60, "stock": 1},
        ],
    }
    api = app.test_client().post(
        "/api/activities", json=body, headers={"Authorization": f"Bearer {STAFF_TOKEN}"}
    )
    assert api.status_code == 400
    assert api.json["error"] == "invalid_activity"
    assert "adds up to more than 100" in api.json["message"]  # the staff API's English
    console = _create(operator, lottery_chance=["60", "60", ""])
    assert "各奖品的中奖概率加起来不能超过100%" in console.get_data(as_text=True)


def test_a_viewer_may_not_create_pause_or_resume(app, viewer):
    running, _ = seed_shakes(app, app.extensions["wxmember"].clock.now_ms())
    before = [(a["aid"], a["active"]) for a in _activities(app)]
    assert _create(viewer).status_code == 403
    answer = viewer.post(f"/console/activities/{running['aid']}/pause", page="/console/activities")
    assert answer.status_code == 403
    assert "无权执行此操作" in answer.get_data(as_text=True)
    assert [(a["aid"], a["active"]) for a in _activities(app)] == before
    assert audit_actions(app) == []
    html = viewer.get("/console/activities").get_data(as_text=True)
    assert 'id="activity-form"' not in html
    assert 'id="pause"' not in viewer.get(f"/console/activities/{running['aid']}").get_data(
        as_text=True
    )


def test_a_form_without_the_session_token_changes_nothing(app, operator):
    answer = operator.post("/console/activities", FORM, csrf=False)
    assert answer.status_code == 400
    assert "页面已过期" in answer.get_data(as_text=True)
    assert _activities(app) == []


def test_an_operator_pauses_and_resumes(app, operator):
    running, _ = seed_shakes(app, app.extensions["wxmember"].clock.now_ms())
    aid = running["aid"]
    page = f"/console/activities/{aid}"
    assert operator.post(f"{page}/pause", page=page).headers["Location"].endswith("done=paused")
    assert app.extensions["wxmember"].shake_activities.get(aid)["active"] is False
    html = operator.get(page).get_data(as_text=True)
    assert 'id="activity-state">已暂停' in html and 'id="resume"' in html
    operator.post(f"{page}/resume", page=page)
    assert app.extensions["wxmember"].shake_activities.get(aid)["active"] is True
    assert audit_actions(app) == ["activity.pause", "activity.resume"]
    assert operator.post("/console/activities/nope/pause", page=page).status_code == 404


def test_the_list_filters_by_state(app, viewer):
    seed_shakes(app, app.extensions["wxmember"].clock.now_ms())

    def names(query):
        html = viewer.get(f"/console/activities{query}").get_data(as_text=True)
        table = html.split('id="activity-table"')[1].split("</table>")[0]
        return re.findall(r'/console/activities/\w+">([^<]+)<', table)

    assert sorted(names("")) == ["会员日抽奖", "周末摇一摇"]
    assert names("?state=running") == ["周末摇一摇"]
    assert names("?state=paused") == ["会员日抽奖"]
    assert names("?state=ended") == []
    assert "没有“已结束”的活动" in viewer.get("/console/activities?state=ended").get_data(
        as_text=True
    )


def test_an_activity_shows_stock_wins_and_every_day(app, viewer):
    now = app.extensions["wxmember"].clock.now_ms()
    running, _ = seed_shakes(app, now)
    html = viewer.get(f"/console/activities/{running['aid']}").get_data(as_text=True)
    stats = app.extensions["wxmember"].shake_activities.stats(
        running["aid"], app.extensions["wxmember"].shakes.done(running["aid"])
    )
    assert f'id="stat-shakes">{stats["shakes"]}<' in html
    assert f'id="stat-wins">{sum(stats["wins"].values())}<' in html
    prizes = html.split('id="prize-table"')[1].split("</table>")[0]
    assert f"{stats['wins'][PRIZE_A]}" in prizes and f"{stats['stock'][PRIZE_A]}" in prizes
    charts = json.loads(html.split('id="chart-data">')[1].split("</script>")[0])
    days = charts["days"]
    assert len(days["x"]) == 13  # from its start, 12 days ago, to today: the quiet days too
    assert days["series"][0]["data"][:3] == [0, 0, 0]
    assert sum(days["series"][0]["data"]) == stats["shakes"]
    assert viewer.get("/console/activities/nope").status_code == 404

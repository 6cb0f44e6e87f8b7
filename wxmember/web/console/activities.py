"""Console: shake (摇一摇) activities — the list (filtered by state), one activity with its
prizes, stock, wins and a chart per day; operators create, pause and resume them.

The form is turned into the body ``POST /api/activities`` takes and handed to the same
``ShakeActivities.create``: the same checks, their refusals shown in Chinese.
"""

from flask import redirect, request, url_for

from wxmember.refusals import Refused
from wxmember.shake.activities import CYCLES
from wxmember.timeparse import DAY_MS, day_start, days_between
from wxmember.web.console.auth import bp, log_change, refuse, requires, services
from wxmember.web.console.forms import Form, FormRefused, form_page
from wxmember.web.console.present import CYCLES as CYCLE_NAMES
from wxmember.web.console.present import local_input, when

PRIZE_ROWS = 3  # prize rows of the form without script (the page adds more)
MOST_PRIZES = 20
MOST_DAYS = 180  # days of an activity's chart
STATES = {"running": "进行中", "upcoming": "未开始", "paused": "已暂停", "ended": "已结束"}
NOTICES = {
    "created": "活动已创建。",
    "paused": "活动已暂停：会员暂时不能摇奖。",
    "resumed": "活动已恢复。",
}


def state_of(activity, now):
    """``running``, ``upcoming``, ``paused`` or ``ended``."""
    if now >= activity["end"]:
        return "ended"
    if not activity["active"]:
        return "paused"
    return "upcoming" if now < activity["start"] else "running"


def _row(activity, now):
    state = state_of(activity, now)
    prizes = activity["prizes"]
    return {
        **activity,
        "state": state,
        "state_name": STATES[state],
        "from": when(activity["start"])[:16],
        "to": when(activity["end"])[:16],
        "cycle_name": CYCLE_NAMES.get(activity["cycle"], activity["cycle"]),
        "stock": sum(p["stock"] for p in prizes),
        "won": sum(p.get("won", 0) for p in prizes),
    }


@bp.get("/activities")
@requires("viewer")
def activities():
    """Every activity (``?state=`` one of STATES), and the form to create one."""
    return _list_page()


def _list_page(status=200, error="", form=None):
    now = services().clock.now_ms()
    chosen = request.args.get("state", "")
    chosen = chosen if chosen in STATES else ""
    rows = [_row(activity, now) for activity in services().shake_activities.all()]
    if chosen:
        rows = [row for row in rows if row["state"] == chosen]
    coupons = services().records.coupons.all_active()
    form = form or _blank_form(now)
    return form_page(
        "console/activities.html",
        NOTICES,
        status,
        error,
        rows=rows,
        states=STATES,
        chosen=chosen,
        coupons=coupons,
        cycles=CYCLE_NAMES,
        form=form,
        prize_rows=max(PRIZE_ROWS, len(form["prizes"])),
    )


def _blank_form(now):
    start = now - now % 3_600_000 + 3_600_000  # the next full hour
    return {
        "name": "",
        "start": local_input(start),
        "end": local_input(start + 7 * DAY_MS),
        "points": "0",
        "chargeOnMiss": True,
        "cycle": "day",
        "limit": "3",
        "prizes": [],
    }


def _prize_rows(values):
    """``(code, chance, stock, display name)`` of each prize row of the form."""
    fields = ("promotion_code", "lottery_chance", "stock", "display_name")
    return list(zip(*(values.getlist(field) for field in fields), strict=False))


def _typed(values):
    """What was typed, to show the form again after a refusal."""
    prizes = [
        {"promotion_code": code, "lottery_chance": chance, "stock": stock, "display_name": name}
        for code, chance, stock, name in _prize_rows(values)
    ]
    return {
        "name": values.get("name", ""),
        "start": values.get("start", ""),
        "end": values.get("end", ""),
        "points": values.get("points", ""),
        "chargeOnMiss": values.get("chargeOnMiss") == "1",
        "cycle": values.get("cycle", ""),
        "limit": values.get("limit", ""),
        "prizes": prizes,
    }


def activity_body(values):
    """The API's activity body from the form; FormRefused naming what is wrong."""
    form = Form(values)
    body = {
        "name": form.text("name", "活动名称"),
        "start": form.moment("start", "开始时间"),
        "end": form.moment("end", "结束时间"),
        "points": form.whole("points", "每次消耗积分", default=0),
        "chargeOnMiss": form.checked("chargeOnMiss"),
        "cycle": form.choice("cycle", "次数周期", CYCLES),
        "limit": form.whole("limit", "每周期次数上限", default=0),
        "prizes": [],
    }
    for number, (code, chance, stock, name) in enumerate(_prize_rows(values), 1):
        if not code.strip():
            continue  # an empty row of the form
        prize = Form({"lottery_chance": chance, "stock": stock, "display_name": name.strip()[:100]})
        body["prizes"].append(
            {
                "promotion_code": code.strip(),
                "lottery_chance": prize.decimal("lottery_chance", f"奖品{number}的中奖概率"),
                "stock": prize.whole("stock", f"奖品{number}的库存"),
                "display_name": prize.raw("display_name") or None,
            }
        )
    if len(body["prizes"]) > MOST_PRIZES:
        raise FormRefused(f"一个活动最多设置{MOST_PRIZES}个奖品。")
    return body


@bp.post("/activities")
@requires("operator")
def create_activity():
    """Create an activity from the form (checked as ``POST /api/activities`` checks it)."""
    try:
        body = activity_body(request.form)
        activity = services().shake_activities.create(body)
    except Refused as refused:
        return _list_page(400, refused.zh, _typed(request.form))
    log_change(
        "activity.create",
        f"activity:{activity['aid']}",
        {"name": activity["name"], "prizes": len(activity["prizes"])},
    )
    return redirect(url_for("console.activity", aid=activity["aid"], done="created"))


@bp.get("/activities/<aid>")
@requires("viewer")
def activity(aid):
    """One activity: its settings, prizes with stock and wins, and a chart per day."""
    found = services().shake_activities.get(aid)
    if found is None:
        return refuse(404, "没有找到该摇一摇活动。")
    stats = services().shake_activities.stats(aid, services().shakes.done(aid))
    labels = _days_of(found, services().clock.now_ms())
    by_day = {day["day"]: day for day in stats["days"]}
    empty = {"shakes": 0, "members": 0, "wins": 0}
    days = [by_day.get(label, empty) for label in labels]
    charts = {
        "days": {
            "kind": "bars",
            "x": labels,
            "series": [
                {"name": "摇奖次数", "data": [d["shakes"] for d in days]},
                {"name": "参与人数", "data": [d["members"] for d in days]},
                {"name": "中奖次数", "data": [d["wins"] for d in days], "line": True},
            ],
        }
    }
    return form_page(
        "console/activity.html",
        NOTICES,
        a=_row(found, services().clock.now_ms()),
        stats=stats,
        charts=charts,
    )


def _days_of(activity, now):
    """Every Shanghai day of the activity so far (its last ``MOST_DAYS`` at most)."""
    until = min(activity["end"], day_start(now) + DAY_MS)
    since = max(day_start(activity["start"]), day_start(until - 1) - (MOST_DAYS - 1) * DAY_MS)
    return days_between(since, until) if since < until else []


@bp.post("/activities/<aid>/<any(pause, resume):action>")
@requires("operator")
def pause_or_resume(aid, action):
    """Pause (no shakes are taken) or resume the activity."""
    found = services().shake_activities.set_active(aid, action == "resume")
    if found is None:
        return refuse(404, "没有找到该摇一摇活动。")
    log_change(f"activity.{action}", f"activity:{aid}", {})
    done = "resumed" if action == "resume" else "paused"
    return redirect(url_for("console.activity", aid=aid, done=done))

"""Console: the dashboard — follows and unfollows, bindings, shakes and wins per activity,
the brand's coupons issued and used per day over the last 7, 30 or 90 days
(Asia/Shanghai), the grade distribution and the health of the scheduled jobs.

Each daily count is one aggregation of the store that owns the records, over its
index and the chosen window. The chart data goes to the page as a JSON block that
``static/console-charts.js`` reads and draws with the vendored ECharts.
"""

from flask import render_template, request

from wxmember.timeparse import DAY_MS, day_start, days_between
from wxmember.web.console.auth import bp, requires, services
from wxmember.web.console.jobs import job_rows

WINDOWS = (7, 30, 90)
MOST_ACTIVITIES = 6  # activities charted (the latest starting first)


@bp.get("/dashboard")
@requires("viewer")
def dashboard():
    """The charts of the chosen window (``?days=7|30|90``, 30 by default)."""
    days = request.args.get("days", 30, type=int)
    days = days if days in WINDOWS else 30
    until = day_start(services().clock.now_ms()) + DAY_MS  # the end of today
    since = until - days * DAY_MS
    labels = days_between(since, until)
    logs = services().records.logs.per_day(
        ["subscribe", "unsubscribe", "bind", "unbind"], since, until
    )

    def series(action):
        return [logs[action].get(day, 0) for day in labels]

    follows, unfollows = series("subscribe"), series("unsubscribe")
    binds, unbinds = series("bind"), series("unbind")
    shakes, shake_totals = _shakes(since, until, labels)
    coupons = services().members.wallet.per_day(since, until)
    issued = [coupons["issued"].get(day, 0) for day in labels]
    used = [coupons["used"].get(day, 0) for day in labels]
    grades = _grades()
    charts = {
        "follows": {
            "kind": "bars",
            "x": labels,
            "series": [
                {"name": "关注", "data": follows},
                {"name": "取消关注", "data": unfollows},
                {
                    "name": "净增",
                    "data": [a - b for a, b in zip(follows, unfollows, strict=True)],
                    "line": True,
                },
            ],
        },
        "bindings": {
            "kind": "bars",
            "x": labels,
            "series": [{"name": "绑定", "data": binds}, {"name": "解绑", "data": unbinds}],
        },
        "shakes": {"kind": "bars", "x": labels, "series": shakes},
        "coupons": {
            "kind": "bars",
            "x": labels,
            "series": [{"name": "发放", "data": issued}, {"name": "使用", "data": used}],
        },
        "grades": {"kind": "pie", "series": [{"name": "会员等级", "data": grades}]},
    }
    totals = {
        "follows": sum(follows),
        "unfollows": sum(unfollows),
        "binds": sum(binds),
        "unbinds": sum(unbinds),
        "issued": sum(issued),
        "used": sum(used),
        **shake_totals,
    }
    return render_template(
        "console/dashboard.html",
        days=days,
        windows=WINDOWS,
        first=labels[0],
        last=labels[-1],
        charts=charts,
        totals=totals,
        grades=grades,
        jobs=job_rows(),
    )


def _shakes(since, until, labels):
    """Shakes (bars) and wins (a line) per day of each activity running in the window, in
    one colour per activity; a day outside an activity's period has no value (a gap)."""
    activities = services().shake_activities.overlapping(since, until)[:MOST_ACTIVITIES]
    draws = services().shakes
    series, shakes, wins = [], 0, 0
    for number, activity in enumerate(activities):
        per_day = draws.per_day(activity["_id"], since, until)
        first, last = day_start(activity["start"]), activity["end"]
        counted = [
            per_day.get(day, {"shakes": 0, "wins": 0}) if first <= moment < last else None
            for day, moment in zip(labels, range(since, until, DAY_MS), strict=True)
        ]
        name = activity["name"]
        for measure, label, line in (("shakes", "摇奖", False), ("wins", "中奖", True)):
            values = [None if day is None else day[measure] for day in counted]
            series.append(
                {"name": f"{name} {label}", "data": values, "line": line, "group": number}
            )
        shakes += sum(day["shakes"] for day in counted if day)
        wins += sum(day["wins"] for day in counted if day)
    return series, {"shakes": shakes, "wins": wins, "activities": len(activities)}


def _grades():
    """``[{name, value}]``: members per grade, lowest first (grades with none included)."""
    system = services().members.grades
    counts = system.distribution()
    rows = [
        {"name": grade["name"], "level": grade["level"], "value": counts.pop(grade["level"], 0)}
        for grade in system.all()
    ]
    if counts.get(None):  # a level since removed, or members from before any grade
        rows.append({"name": "未定级", "level": None, "value": counts[None]})
    return rows

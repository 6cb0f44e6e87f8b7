"""Console: the scheduled jobs — interval, last run, next run, lease holder — run one now
(operators) and watch its progress; the latest runs, filtered by job."""

from datetime import datetime, timezone

from bson import ObjectId
from bson.errors import InvalidId
from flask import jsonify, redirect, request, url_for

from wxmember.scheduling import JobBusy, UnknownJob
from wxmember.web.console.auth import bp, log_change, refuse, requires, services
from wxmember.web.console.forms import form_page
from wxmember.web.console.present import (
    JOB_NAMES,
    RUN_STATES,
    TRIGGERS,
    counts_text,
    duration,
    every,
    job_name,
    when,
)

RUNS_SHOWN = 30
NOTICES = {"started": "任务已开始运行，进度见下方。"}


def _ms(moment):
    """A datetime read from MongoDB (naive means UTC) as epoch ms; None stays None."""
    if not isinstance(moment, datetime):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return int(moment.timestamp() * 1000)


def run_view(run):
    """A run record as the pages and the progress route show it."""
    started, ended = run.get("startedAt"), run.get("endedAt")
    return {
        "id": str(run["_id"]),
        "job": run["job"],
        "job_name": job_name(run["job"]),
        "state": run["state"],
        "state_name": RUN_STATES.get(run["state"], run["state"]),
        "trigger": TRIGGERS.get(run.get("trigger"), run.get("trigger") or ""),
        "owner": run.get("owner", ""),
        "started": when(started),
        "ended": when(ended),
        "took": duration(ended - started) if started and ended else "",
        "done": run.get("done"),
        "total": run.get("total"),
        "counts": counts_text(run.get("counts") or {}),
        "error": run.get("error") or "",
    }


def _next_run(name, interval_s, lease):
    """``(ms, how)``: from this process's scheduler, else the last scheduled run + interval."""
    scheduler = services().scheduler
    if scheduler is not None and scheduler.running:
        job = scheduler.get_job(name)
        if job is not None and job.next_run_time is not None:
            return _ms(job.next_run_time), "本进程的调度"
    scheduled = _ms((lease or {}).get("scheduledAt"))
    if scheduled is not None:
        return scheduled + interval_s * 1000, "按上次定时运行推算"
    return None, "尚无定时运行记录"


def _health(last, interval_s, now):
    """``(code, 中文)`` of a job: never run, running, failed, overdue or fine."""
    if last is None:
        return "never", "从未运行"
    if last["state"] == "running":
        return "running", "运行中"
    if last["state"] == "failed":
        return "failed", "上次失败"
    if now - last["startedAt"] > 3 * interval_s * 1000 + 120_000:
        return "overdue", "超过三个周期未运行"
    return "ok", "正常"


def job_rows():
    """Every job with its interval, last run, health, next run and lease holder."""
    jobs = services().jobs
    now = services().clock.now_ms()
    intervals = jobs.intervals()
    leases = {lease["_id"]: lease for lease in jobs.leases()}
    rows = []
    for name in jobs.names:
        runs = jobs.runs(name, 1)
        last = runs[0] if runs else None
        lease = leases.get(name)
        until = _ms((lease or {}).get("until"))
        next_ms, next_how = _next_run(name, intervals[name], lease)
        health, health_name = _health(last, intervals[name], now)
        rows.append(
            {
                "name": name,
                "title": job_name(name),
                "about": JOB_NAMES.get(name, ("", ""))[1],
                "every": every(intervals[name]),
                "last": run_view(last) if last else None,
                "health": health,
                "health_name": health_name,
                "next": when(next_ms),
                "next_how": next_how,
                "holder": lease["owner"] if lease and until and until > now else "",
                "held_until": when(until) if until and until > now else "",
                "last_holder": lease["owner"] if lease else "",
            }
        )
    return rows


@bp.get("/jobs")
@requires("viewer")
def jobs_page():
    """Every job, a run being watched (``?run=``), and the latest runs (``?job=``)."""
    return _page()


def _page(status=200, error=""):
    jobs = services().jobs
    chosen = request.args.get("job", "").strip()
    chosen = chosen if chosen in jobs.names else ""
    watched = _run(request.args.get("run", ""))
    return form_page(
        "console/jobs.html",
        NOTICES,
        status,
        error,
        rows=job_rows(),
        runs=[run_view(run) for run in jobs.runs(chosen or None, RUNS_SHOWN)],
        chosen=chosen,
        names=[(name, job_name(name)) for name in jobs.names],
        watched=run_view(watched) if watched else None,
        this_process=services().owner,
    )


def _run(run_id):
    try:
        return services().jobs.run_record(ObjectId(run_id)) if run_id else None
    except (InvalidId, TypeError):
        return None


@bp.post("/jobs/<name>/run")
@requires("operator")
def run_job(name):
    """Start job ``name`` now in this process; the page then follows its run."""
    try:
        run_id = services().jobs.start(name, trigger="console")
    except UnknownJob:
        return refuse(404, f"没有名为“{name}”的定时任务。")
    except JobBusy:
        message = f"“{job_name(name)}”正在运行，请等这次运行结束后再试。"
        return _page(409, message)
    log_change("job.run", f"job:{name}", {"run": str(run_id)})
    return redirect(url_for("console.jobs_page", run=str(run_id), done="started") + "#watch")


@bp.get("/jobs/runs/<run_id>")
@requires("viewer")
def job_run(run_id):
    """One run as JSON (state, ``done``/``total``, counts, error): the page polls it."""
    run = _run(run_id)
    if run is None:
        return jsonify({"ok": False, "state": "unknown"}), 404
    return jsonify({"ok": True, **run_view(run)})

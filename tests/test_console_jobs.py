"""Console jobs: every job with its interval, last run, next run and lease holder; an
operator runs one now and follows its run record to the end (audited); a busy job is
refused in Chinese; a viewer's run is 403 and starts nothing."""

import time

from bson import ObjectId

from jobs import scheduler
from jobs.lease import Lease
from tests.console_audit import audit_actions
from wxmember.web.console.present import JOB_NAMES, when


def _wait(app, run_id, seconds=20):
    jobs = app.extensions["wxmember"].jobs
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        run = jobs.run_record(ObjectId(run_id))
        if run and run["state"] != "running":
            return run
        time.sleep(0.05)
    raise AssertionError("the run did not end")


def test_every_job_is_listed_in_chinese_with_its_interval(app, viewer):
    html = viewer.get("/console/jobs").get_data(as_text=True)
    for name in app.extensions["wxmember"].jobs.names:
        assert f'id="job-{name}"' in html
        assert JOB_NAMES[name][0] in html
    assert "每 10 分钟" in html and "每 30 秒" in html and "每 1 小时" in html
    assert html.count("从未运行") >= len(app.extensions["wxmember"].jobs.names)
    assert 'id="run-grades"' not in html  # viewers have no run button


def test_an_operator_runs_a_job_now_and_follows_its_run(app, operator):
    answer = operator.post("/console/jobs/activities/run", page="/console/jobs")
    assert answer.status_code == 302
    run_id = answer.headers["Location"].split("run=")[1].split("&")[0]
    run = _wait(app, run_id)
    assert (run["job"], run["trigger"], run["state"]) == ("activities", "console", "ok")
    progress = operator.get(f"/console/jobs/runs/{run_id}").json
    assert progress["ok"] is True and progress["state"] == "ok" and progress["state_name"] == "完成"
    assert progress["done"] == progress["total"] == 5
    assert progress["counts"] == "券活动 5 · 页 1 · 下线 0"
    html = operator.get(answer.headers["Location"]).get_data(as_text=True)
    assert "任务已开始运行" in html and f'data-run="{run_id}"' in html
    assert 'id="run-state">完成' in html and "运行完成" in html
    assert audit_actions(app) == ["job.run"]
    row = app.extensions["wxmember"].staff.audit.collection.find_one({"action": "job.run"})
    assert (row["who"], row["target"], row["details"]["run"]) == (
        "olivia",
        "job:activities",
        run_id,
    )


def test_a_job_running_elsewhere_is_refused_in_chinese(app, operator):
    services = app.extensions["wxmember"]
    assert Lease(services.database, "grades", "another-process").acquire()
    answer = operator.post("/console/jobs/grades/run", page="/console/jobs")
    assert answer.status_code == 409
    html = answer.get_data(as_text=True)
    assert "“会员等级评估”正在运行，请等这次运行结束后再试。" in html
    assert "another-process" in html  # the lease holder is shown
    assert services.jobs.runs("grades") == []
    assert audit_actions(app) == []


def test_a_viewer_cannot_run_a_job_and_an_unknown_job_is_404(app, viewer, operator):
    answer = viewer.post("/console/jobs/grades/run", page="/console/jobs")
    assert answer.status_code == 403
    assert app.extensions["wxmember"].jobs.runs() == []
    assert operator.post("/console/jobs/nope/run", page="/console/jobs").status_code == 404
    assert operator.get("/console/jobs/runs/not-an-id").status_code == 404
    assert operator.get(f"/console/jobs/runs/{ObjectId()}").json == {
        "ok": False,
        "state": "unknown",
    }


def test_runs_are_listed_newest_first_and_filtered_by_job(make_app, clock):
    from tests.console_helpers import Console

    app = make_app(clock=clock)  # at the real time: the TTL indexes keep the sign-in
    jobs = app.extensions["wxmember"].jobs
    jobs.run("templates")
    clock.advance(seconds=1)
    jobs.run("grades")
    viewer = Console(app, "victor", "viewer")
    html = viewer.get("/console/jobs").get_data(as_text=True)
    table = html.split('id="runs-table"')[1]
    assert table.index("会员等级评估") < table.index("模板消息发送")
    only = viewer.get("/console/jobs?job=templates").get_data(as_text=True)
    table = only.split('id="runs-table"')[1]
    assert "模板消息发送" in table and "会员等级评估" not in table


def test_the_next_run_comes_from_this_process_scheduler(app, viewer):
    services = app.extensions["wxmember"]
    services.scheduler = scheduler.build(services.jobs)
    services.scheduler.start(paused=True)  # scheduled, but nothing runs during the test
    try:
        html = viewer.get("/console/jobs").get_data(as_text=True)
    finally:
        services.scheduler.shutdown(wait=False)
        services.scheduler = None
    card = html.split('id="job-members"')[1].split("</section>")[0]
    assert "本进程的调度" in card


def test_without_a_scheduler_the_next_run_is_the_last_scheduled_one_plus_the_interval(
    make_app,
    clock,
):
    from tests.console_helpers import Console

    app = make_app(clock=clock)
    scheduled_at = clock.now_ms()
    app.extensions["wxmember"].jobs.run("templates", trigger="schedule", scheduled_every_s=60)
    clock.advance(seconds=5)
    html = Console(app, "victor", "viewer").get("/console/jobs").get_data(as_text=True)
    card = html.split('id="job-templates"')[1].split("</section>")[0]
    assert f"{when(scheduled_at + 60_000)} <small" in card and "按上次定时运行推算" in card
    assert "完成" in card and "正常" in card

"""Scheduled jobs: member sync, activity pull, reconciliation, outbox; leases and run records."""

import threading
from datetime import datetime, timezone

import pytest
from click.testing import CliRunner

from jobs import scheduler
from jobs.lease import Lease
from jobs.member_sync import read_cursor
from jobs.runner import JOBS, JobBusy, run_job
from tests.conftest import STAFF_TOKEN, database_of
from tests.crm_helpers import Member, Sim
from wxmember.composition import bootstrap

PAST = datetime(2000, 1, 1, tzinfo=timezone.utc)


@pytest.fixture
def job_app(make_app):
    return make_app(crm={"timeout_s": 1, "retries": 0}, scheduler={"batch_size": 100})


@pytest.fixture
def sim(job_app):
    return Sim(job_app)


@pytest.fixture
def services(job_app):
    return job_app.extensions["wxmember"]


def bind(app, sim, openid, index=0):
    card = sim.a_member(index=index)
    assert Member(app, openid, sim).bind(card["MOBILE_TELEPHONE_NO"]).status_code == 200
    return card


def customer(app, openid):
    return database_of(app)["welab/customers"].find_one({"wechatid": openid})


def drift(app, **query):
    return list(database_of(app)["wxmember/drift"].find(query))


# -- member sync -------------------------------------------------------------------


def test_member_sync_maps_crm_fields_onto_the_bound_customer(job_app, sim, services):
    card = bind(job_app, sim, "oSynced")
    sim.change(
        card["MEMBER_ID"],
        MEM_PSN_CNAME="林小蓝",
        MEM_PSN_SEX="F",
        CITY="苏州",
        PROVINCE="江苏",
        MEM_PSN_BIRTHDAY="1995-05-17",
        MEM_PSN_HOPPY="02",
        MEM_PSN_COLOR="藏青",
        MEM_PSN_EMAIL="lan@example.com",
        MEM_INDUSTRY="金融",
        MEM_PSN_ADDRESS="苏州市人民路1号",
        LEVEL="03",
    )

    run = run_job(services, "members")

    assert run["state"] == "ok" and run["error"] is None
    saved = customer(job_app, "oSynced")
    assert (saved["realname"], saved["gender"], saved["city"]) == ("林小蓝", "female", "苏州")
    assert saved["province"] == "江苏" and saved["favoriteStyle"] == "时尚潮流"
    assert saved["favoriteColor"] == "藏青" and saved["email"] == "lan@example.com"
    assert saved["profession"] == "金融" and saved["address"] == "苏州市人民路1号"
    assert saved["birthday"] == int(
        datetime(1995, 5, 16, 16, tzinfo=timezone.utc).timestamp() * 1000
    )
    assert saved["HaiLanMemberInfo"]["type"] == 3
    assert read_cursor(services.database) == run["counts"]["changes"] > 0


def test_member_sync_does_no_work_twice(job_app, sim, services):
    bind(job_app, sim, "oTwice")
    first = run_job(services, "members")
    second = run_job(services, "members")
    assert first["counts"]["changes"] > 0
    assert second["counts"]["changes"] == 0


def test_member_sync_leaves_unbound_members_alone(job_app, sim, services):
    card = sim.a_member()
    sim.change(card["MEMBER_ID"], CITY="拉萨")
    run_job(services, "members")
    assert database_of(job_app)["welab/customers"].count_documents({"city": "拉萨"}) == 0


@pytest.mark.parametrize(
    "fault",
    [{"down": True}, {"error_rate": 1.0}, {"garbage": True}, {"latency_ms": 1500}],
    ids=["down", "500", "garbage", "slow"],
)
def test_crm_failure_mid_sync_keeps_the_cursor_and_resumes(job_app, sim, services, fault):
    card = bind(job_app, sim, "oResume")
    sim.touch(249)  # with the binding's own change: 250 rows, batches of 100
    sim.change(card["MEMBER_ID"], CITY="最后一条")
    total = len(sim_changes(sim))

    def fail_after_first_batch(done, total_=None):
        sim.faults(**fault)

    failed = run_job(services, "members", progress=fail_after_first_batch)

    assert failed["state"] == "failed" and "CRM" in failed["error"]
    assert read_cursor(services.database) == 100  # exactly the stored batch
    assert customer(job_app, "oResume").get("city") != "最后一条"
    sim.faults(down=False, error_rate=0, garbage=False, latency_ms=0)
    resumed = run_job(services, "members")
    assert resumed["state"] == "ok"
    assert resumed["counts"]["changes"] == total - 100  # nothing done twice
    assert read_cursor(services.database) == total
    assert customer(job_app, "oResume")["city"] == "最后一条"


def sim_changes(sim):
    import requests

    rows, after = [], 0
    while after is not None:
        page = requests.get(
            f"{sim.url}/v1/changes", params={"after": after, "limit": 1000}, timeout=5
        ).json()
        rows += page["list"]
        after = page["next"]
    return rows


def test_member_unbound_on_the_crm_is_noticed(job_app, sim, services):
    card = bind(job_app, sim, "oDropped")
    run_job(services, "members")
    sim.change(card["MEMBER_ID"], WX_OPENID=None)

    run = run_job(services, "members")

    assert run["counts"]["drift"] == 1
    [item] = drift(job_app, kind="unbound_on_crm")
    assert item["openid"] == "oDropped" and item["state"] == "open"
    log = database_of(job_app)["lavico/user/logs"].find_one({"action": "binding_drift"})
    assert log["wxid"] == "oDropped" and log["data"]["kind"] == "unbound_on_crm"


# -- reconciliation ----------------------------------------------------------------


def test_reconcile_rebinds_a_binding_the_crm_lost(job_app, sim, services):
    card = bind(job_app, sim, "oLost")
    sim.change(card["MEMBER_ID"], WX_OPENID=None)

    run = run_job(services, "reconcile")

    assert run["counts"]["repaired"] == 1
    assert sim.member(card["MEMBER_ID"])["WX_OPENID"] == "oLost"
    assert drift(job_app, kind="unbound_on_crm")[0]["state"] == "repaired"
    repair = database_of(job_app)["lavico/user/logs"].find_one({"action": "binding_repair"})
    assert repair["data"]["repair"] == "rebound_on_crm"


def test_reconcile_records_a_card_bound_to_someone_else(job_app, sim, services):
    card = bind(job_app, sim, "oMine")
    sim.change(card["MEMBER_ID"], WX_OPENID="oTheirs")

    run = run_job(services, "reconcile")

    assert run["counts"]["recorded"] == 1
    [item] = drift(job_app, kind="bound_elsewhere")
    assert item["detail"]["crmOpenid"] == "oTheirs" and item["state"] == "open"
    assert sim.member(card["MEMBER_ID"])["WX_OPENID"] == "oTheirs"  # not touched
    assert customer(job_app, "oMine")["isRegister"] is True


def test_reconcile_records_a_member_the_crm_does_not_know(job_app, services):
    services.records.customers.bind("oGhost", 99999999, "W0099999999", 1, "13100000000")
    run = run_job(services, "reconcile")
    assert run["counts"]["recorded"] == 1
    assert drift(job_app, kind="member_missing")[0]["openid"] == "oGhost"


def test_reconcile_copies_a_changed_card_from_the_crm(job_app, sim, services):
    card = bind(job_app, sim, "oUpgraded")
    sim.change(card["MEMBER_ID"], LEVEL="03", MEM_CARD_NO="P0016426799")

    run = run_job(services, "reconcile")

    assert run["counts"]["repaired"] == 1
    info = customer(job_app, "oUpgraded")["HaiLanMemberInfo"]
    assert (info["type"], info["memberCardNumber"]) == (3, "P0016426799")


def test_reconcile_closes_drift_that_is_gone(job_app, sim, services):
    card = bind(job_app, sim, "oBack")
    services.drift.record("bound_elsewhere", "oBack", card["MEMBER_ID"])
    run = run_job(services, "reconcile")
    assert run["counts"]["agree"] == 1
    assert drift(job_app, openid="oBack")[0]["state"] == "resolved"


def test_reconcile_skips_a_binding_with_our_unbind_in_flight(job_app, sim, services):
    card = bind(job_app, sim, "oInFlight")
    sim.change(card["MEMBER_ID"], WX_OPENID=None)
    services.outbox.add("unbind", card["MEMBER_ID"], "oInFlight")
    assert run_job(services, "reconcile")["counts"]["skipped"] == 1
    assert sim.member(card["MEMBER_ID"])["WX_OPENID"] is None


def test_reconcile_stops_cleanly_when_the_crm_is_down(job_app, sim, services):
    bind(job_app, sim, "oWaiting")
    sim.faults(down=True)
    run = run_job(services, "reconcile")
    assert run["state"] == "failed" and "CRMUnavailable" in run["error"]
    assert drift(job_app) == []


# -- activities, outbox ------------------------------------------------------------


def test_activity_pull_fills_lavico_activity(job_app, services):
    first = run_job(services, "activities")
    again = run_job(services, "activities")
    activities = database_of(job_app)["lavico/activity"]
    assert first["counts"]["activities"] == again["counts"]["activities"] == 5
    assert activities.count_documents({"active": True}) == 5
    coupon = activities.find_one({"promotion_code": "CQL201404010004"})
    assert coupon["promotion_name"] == "返店券" and coupon["promotion_qty"] == 500


def test_outbox_keeps_a_members_order_while_the_crm_is_down(job_app, sim, services):
    card = bind(job_app, sim, "oOrdered")
    services.records.customers.unbind("oOrdered")
    services.outbox.add("unbind", card["MEMBER_ID"], "oOrdered")
    services.outbox.add("unbind", card["MEMBER_ID"], "oOrdered")
    sim.faults(down=True)

    counts = run_job(services, "outbox")["counts"]

    assert (counts["failed"], counts["waiting"]) == (1, 1)
    sim.faults(down=False)
    database_of(job_app)["wxmember/outbox"].update_many({}, {"$set": {"nextAttemptAt": PAST}})
    counts = run_job(services, "outbox")["counts"]
    assert counts["delivered"] == 2  # the second: "not bound" any more, which is what we asked
    assert sim.member(card["MEMBER_ID"])["WX_OPENID"] is None


# -- leases, runs, schedule --------------------------------------------------------


@pytest.mark.mongo  # races need a real server; mongomock is not atomic
def test_two_workers_racing_run_the_job_once(job_app, sim, services):
    other = bootstrap(services.config, database=services.database)
    other.crm = services.crm
    sim.faults(latency_ms=300)
    outcomes = []
    barrier = threading.Barrier(2)

    def race(worker):
        barrier.wait()
        try:
            outcomes.append(run_job(worker, "activities")["state"])
        except JobBusy:
            outcomes.append("busy")

    threads = [threading.Thread(target=race, args=(w,)) for w in (services, other)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    other.close()

    assert sorted(outcomes) == ["busy", "ok"]
    assert database_of(job_app)["wxmember/job_runs"].count_documents({"job": "activities"}) == 1


def test_a_dead_holders_lease_can_be_taken_after_it_runs_out(services):
    dead = Lease(services.database, "members", "dead-host", ttl_s=300)
    assert dead.acquire()
    with pytest.raises(JobBusy):
        run_job(services, "members")
    services.database["wxmember/job_leases"].update_one({}, {"$set": {"until": PAST}})
    assert run_job(services, "members")["state"] == "ok"


def test_job_runs_are_listed_for_staff(job_app, services):
    run_job(services, "activities", trigger="cli")
    body = (
        job_app.test_client()
        .get("/api/jobs", headers={"Authorization": f"Bearer {STAFF_TOKEN}"})
        .json
    )
    [run] = body["items"]
    assert run["job"] == "activities" and run["trigger"] == "cli" and run["state"] == "ok"
    assert run["counts"]["activities"] == 5 and run["endedAt"] >= run["startedAt"]
    assert body["leases"][0]["_id"] == "activities"


def test_drift_is_listed_for_staff(job_app, services):
    services.drift.record("member_missing", "oX", 1)
    body = (
        job_app.test_client()
        .get("/api/drift?state=open", headers={"Authorization": f"Bearer {STAFF_TOKEN}"})
        .json
    )
    assert [item["kind"] for item in body["items"]] == ["member_missing"]
    assert "找不到" in body["items"][0]["description"]


def test_embedded_default_schedules_every_job_in_process(make_app):
    app = make_app(scheduler={"enabled": True, "outbox_seconds": 45})
    jobs = {job.id: job for job in app.extensions["wxmember"].scheduler.get_jobs()}
    assert set(jobs) == set(JOBS)
    assert jobs["outbox"].trigger.interval.total_seconds() == 45
    assert jobs["members"].trigger.interval.total_seconds() == 600
    # a run more than half an interval late is dropped, not run twice in a row
    assert jobs["outbox"].misfire_grace_time == 22
    assert jobs["members"].misfire_grace_time == 300


def fire(services, name):
    """What APScheduler calls when job ``name`` is due: its function with its arguments."""
    job = scheduler.build(services.jobs).get_job(name)
    job.func(*job.args, **job.kwargs)


def test_scheduled_call_records_a_run(services):
    fire(services, "outbox")
    [run] = services.database["wxmember/job_runs"].find({"job": "outbox"})
    assert run["trigger"] == "schedule" and run["state"] == "ok"


def test_every_workers_schedule_fires_but_a_job_runs_once_per_interval(job_app, services):
    other = bootstrap(services.config, database=services.database)  # a second worker
    try:
        for worker in (services, other, services, other):  # both fire, a moment apart
            fire(worker, "outbox")
        runs = database_of(job_app)["wxmember/job_runs"]
        assert runs.count_documents({"job": "outbox"}) == 1

        # half an interval on, the next firing runs it, whichever worker it is
        leases = database_of(job_app)["wxmember/job_leases"]
        leases.update_one({"_id": "outbox"}, {"$set": {"scheduledAt": PAST}})
        fire(other, "outbox")
        assert runs.count_documents({"job": "outbox", "owner": other.owner}) == 1
        # and a run asked for by hand is never held back by the schedule
        assert run_job(services, "outbox", trigger="cli")["state"] == "ok"
        assert runs.count_documents({"job": "outbox"}) == 3
    finally:
        other.close()


def test_sync_records_a_crm_binding_we_do_not_have(job_app, sim, services):
    card = sim.a_member()
    sim.change(card["MEMBER_ID"], WX_OPENID="oOnlyOnCrm")
    assert run_job(services, "members")["counts"]["drift"] == 1
    [item] = drift(job_app, kind="crm_only")
    assert (item["openid"], item["memberID"]) == ("oOnlyOnCrm", card["MEMBER_ID"])


def test_sync_records_a_mobile_taken_by_another_bound_member(job_app, sim, services):
    first = bind(job_app, sim, "oHasMobile", index=0)
    second = bind(job_app, sim, "oWantsMobile", index=0)
    run_job(services, "members")
    sim.change(second["MEMBER_ID"], MOBILE_TELEPHONE_NO=first["MOBILE_TELEPHONE_NO"], CITY="厦门")

    run = run_job(services, "members")

    assert run["state"] == "ok" and run["counts"]["drift"] == 1
    [item] = drift(job_app, kind="mobile_conflict")
    assert item["openid"] == "oWantsMobile"
    kept = customer(job_app, "oWantsMobile")
    assert kept["mobile"] == second["MOBILE_TELEPHONE_NO"]  # the unique mobile is kept
    assert read_cursor(services.database) > 0


@pytest.mark.mongo  # one database shared by two processes: never mongomock's private one
def test_cli_sync_and_jobs(job_app, tmp_path, live_server_for):
    from tests.conftest import write_config
    from wxmember.cli import cli

    runner = job_app.test_cli_runner()
    config = str(write_config(tmp_path))
    result = runner.invoke(cli, ["--config", config, "sync", "activities"], obj={})
    assert result.exit_code == 0, result.output
    assert "activities [" in result.output and "activities=5" in result.output
    # the command ran against the serving app's database, not a private one
    assert database_of(job_app)["lavico/activity"].count_documents({}) == 5

    server = live_server_for(job_app)
    run_job(job_app.extensions["wxmember"], "activities", trigger="api")
    listed = runner.invoke(cli, ["--config", config, "jobs", "--url", server.url], obj={})
    assert listed.exit_code == 0, listed.output
    assert listed.output.count("activities ok") == 2 and "(2 runs)" in listed.output


def test_cli_sync_of_a_crm_job_with_the_built_in_simulator_points_to_the_server(tmp_path):
    from tests.conftest import write_config
    from wxmember.cli import cli

    config = str(write_config(tmp_path))
    result = CliRunner().invoke(cli, ["--config", config, "sync", "reconcile"], obj={})

    assert result.exit_code == 1
    assert "built-in CRM simulator lives in the serving process" in result.output
    assert "--url" in result.output


def test_cli_sync_runs_in_the_serving_process_with_progress(job_app, tmp_path, live_server_for):
    from tests.conftest import write_config
    from wxmember.cli import cli

    server = live_server_for(job_app)
    config = str(write_config(tmp_path))
    result = job_app.test_cli_runner().invoke(
        cli, ["--config", config, "sync", "activities", "--url", server.url], obj={}
    )
    assert result.exit_code == 0, result.output
    assert "activities ok" in result.output and "activities=5" in result.output
    assert database_of(job_app)["lavico/activity"].count_documents({}) == 5  # in that process
    [run] = database_of(job_app)["wxmember/job_runs"].find()
    assert run["trigger"] == "api" and run["done"] == 5 and run["total"] == 5


def test_job_api_refuses_unknown_jobs_and_busy_ones(job_app, services):
    client = job_app.test_client()
    headers = {"Authorization": f"Bearer {STAFF_TOKEN}"}
    assert client.post("/api/jobs/nope", headers=headers).status_code == 404
    Lease(services.database, "members", "another-host").acquire()
    busy = client.post("/api/jobs/members", headers=headers)
    assert (busy.status_code, busy.json["error"]) == (409, "job_busy")
    assert client.get("/api/jobs/runs/zzz", headers=headers).status_code == 404

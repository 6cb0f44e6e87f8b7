"""Every change the platform asks of the CRM, under every way the CRM fails.

Faults: an answer just under the client's timeout, just over it (the work done
before or after the wait), a 500, garbage, and a connection reset after the work.
After the fault clears and the platform does what it does next (the member tries
again when told to, the jobs run), the platform and the CRM agree: nothing given
twice, nothing taken for nothing.
"""

import time
from datetime import datetime, timezone

import pytest

from jobs.runner import run_job
from tests.conftest import STAFF_TOKEN, database_of
from tests.crm_helpers import Member, Sim, create_activity

TIMEOUT_S = 0.3
FAULTS = {
    "just-under": {"latency_ms": 200},
    "over-work-after": {"latency_ms": 450},  # the CRM works after the client gave up
    "over-work-before": {"slow_answer_ms": 450},  # the CRM worked, its answer came too late
    "500": {"error_rate": 1.0},
    "garbage": {"garbage": True},
    "reset": {"reset": True},  # the CRM worked, then the connection dropped
}
CLEAR = {"latency_ms": 0, "slow_answer_ms": 0, "error_rate": 0, "garbage": False, "reset": False}
CASH = "CQL201404010004"
AUTH = {"Authorization": f"Bearer {STAFF_TOKEN}"}
PAST = datetime(2000, 1, 1, tzinfo=timezone.utc)


@pytest.fixture
def crm_app(make_app):
    app = make_app(crm={"timeout_s": TIMEOUT_S, "retries": 0})
    app.extensions["wxmember"].dispatcher.retry_wait_s = 0.2
    return app


@pytest.fixture
def sim(crm_app):
    return Sim(crm_app)


def recover(sim, fault):
    """The fault clears; a CRM still working on a late request finishes first."""
    sim.faults(**CLEAR)
    time.sleep((fault.get("latency_ms", 0) + fault.get("slow_answer_ms", 0)) / 1000 + 0.1)


def platform_binding(app, openid):
    customer = database_of(app)["welab/customers"].find_one({"wechatid": openid}) or {}
    return (
        customer.get("HaiLanMemberInfo", {}).get("memberID") if customer.get("isRegister") else None
    )


def crm_binding(sim, member_id):
    return sim.member(member_id)["WX_OPENID"]


@pytest.mark.parametrize("fault", FAULTS.values(), ids=FAULTS.keys())
def test_a_bind_agrees_with_the_crm_whatever_the_crm_did(crm_app, sim, fault):
    card = sim.a_member(verified=True)
    member = Member(crm_app, "oFaultyBind", sim)
    assert member.send_code(card["MOBILE_TELEPHONE_NO"]).status_code == 200
    code = sim.last_code(card["MOBILE_TELEPHONE_NO"])
    sim.faults(**fault)

    first = member.bind(card["MOBILE_TELEPHONE_NO"], code)
    recover(sim, fault)
    if first.status_code != 200:  # told to try again: the code is still good
        assert first.status_code == 503 and first.json["message"]
        assert member.bind(card["MOBILE_TELEPHONE_NO"], code).status_code == 200

    assert platform_binding(crm_app, "oFaultyBind") == card["MEMBER_ID"]
    assert crm_binding(sim, card["MEMBER_ID"]) == "oFaultyBind"


@pytest.mark.parametrize("fault", FAULTS.values(), ids=FAULTS.keys())
def test_an_unbind_reaches_the_crm_once_it_recovers(crm_app, sim, fault):
    card = sim.a_member(verified=True)
    member = Member(crm_app, "oFaultyUnbind", sim)
    assert member.bind(card["MOBILE_TELEPHONE_NO"]).status_code == 200
    crm_app.extensions["wxmember"].background.shutdown()  # the bind's own follow-ups first
    member.a_minute_later()
    assert member.send_code(purpose="unbind").status_code == 200
    code = sim.last_code(card["MOBILE_TELEPHONE_NO"])
    sim.faults(**fault)

    answer = member.client.post("/m/api/unbind", json={"code": code})
    assert answer.status_code == 200  # recorded at once; the CRM is told through the outbox
    recover(sim, fault)
    database_of(crm_app)["wxmember/outbox"].update_many({}, {"$set": {"nextAttemptAt": PAST}})
    run_job(crm_app.extensions["wxmember"], "outbox")

    assert platform_binding(crm_app, "oFaultyUnbind") is None
    assert crm_binding(sim, card["MEMBER_ID"]) is None


@pytest.mark.parametrize("fault", FAULTS.values(), ids=FAULTS.keys())
def test_a_shake_never_gives_a_coupon_twice_nor_takes_points_for_nothing(crm_app, sim, fault):
    services = crm_app.extensions["wxmember"]
    run_job(services, "activities")
    aid = create_activity(
        crm_app, [{"promotion_code": CASH, "lottery_chance": 100, "stock": 5}], name="故障摇一摇"
    )
    card = sim.a_member(verified=True)
    member = Member(crm_app, "oFaultyShake", sim)
    assert member.bind(card["MOBILE_TELEPHONE_NO"]).status_code == 200
    services.background.shutdown()
    system = services.members
    system.points.adjust(card["MEMBER_ID"], 50 - system.points.balance(card["MEMBER_ID"]), "t", "T")
    sim.faults(**fault)

    answer = member.client.post("/m/api/shake", json={"aid": aid, "shakeId": "s1"})
    recover(sim, fault)
    database_of(crm_app)["shake/draws"].update_many({}, {"$set": {"createDate": 0}})
    run_job(services, "shake_sweep")

    if fault is FAULTS["just-under"] and answer.status_code == 200:  # in time, unless loaded
        assert answer.json["win"] is True and answer.json["coupon_no"]
    else:  # no good answer in time: the member is told the prize is on its way
        assert (answer.status_code, answer.json["error"]) == (503, "coupon_pending")
    customer = database_of(crm_app)["welab/customers"].find_one({"wechatid": "oFaultyShake"})
    recorded = [record["coupon_no"] for record in customer.get("shake", [])]
    issued, _ = services.crm.coupons(openid="oFaultyShake")
    assert len(recorded) == 1  # a sure win (chance 100, stock 5): paid for, then given once
    assert [c["COUPON_NO"] for c in issued] == recorded  # none unknown to us, none twice
    assert system.points.balance(card["MEMBER_ID"]) == 40
    assert system.ledger.audit() == []

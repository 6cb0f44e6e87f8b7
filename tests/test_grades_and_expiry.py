"""Grades up and down over calendar months, the grade lock, and points expiry (oldest first)."""

from datetime import datetime

import pytest

from tests.conftest import database_of
from tests.crm_helpers import Member, Sim
from wxmember.members.grades import months_before
from wxmember.members.ledger import Entry
from wxmember.members.points import ExpiryPolicy
from wxmember.members.transactions import parse
from wxmember.timeparse import SHANGHAI

MEMBER = 16426780


def ms(*args):
    return int(datetime(*args, tzinfo=SHANGHAI).timestamp() * 1000)


@pytest.fixture
def app(make_app, clock):
    """The app of every test here: its stores read the test's ``clock``."""
    return make_app(clock=clock)


@pytest.fixture
def system(app):
    return app.extensions["wxmember"].members


@pytest.fixture
def graded(system):
    system.grades.save({"level": 0, "name": "普卡"})
    system.grades.save(
        {
            "level": 1,
            "name": "银卡",
            "discount": 0.95,
            "down": {"by": "spend", "months": 3, "number": 500, "to": 0},
        }
    )
    system.grades.save(
        {"level": 0, "name": "普卡", "up": {"by": "spend", "months": 12, "number": 1000, "to": 1}}
    )
    return system


def buy(system, form_id, yuan, when, member=MEMBER, clock=None):
    clock.set(when)
    return system.transactions.apply(
        parse({"formId": form_id, "memberID": member, "type": "purchase", "amount": yuan})
    )


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        ((2026, 3, 31), 1, (2026, 2, 28)),
        ((2024, 3, 31), 1, (2024, 2, 29)),
        ((2026, 1, 15), 3, (2025, 10, 15)),
        ((2026, 5, 31), 3, (2026, 2, 28)),
    ],
)
def test_months_before_clamps_to_the_month_end(start, months, expected):
    assert months_before(ms(*start), months) == ms(*expected)


def test_a_purchase_upgrades_at_once_and_tells_the_member(app, graded, clock):
    sim = Sim(app)
    card = sim.a_member()
    Member(app, "oGrowing", sim).bind(card["MOBILE_TELEPHONE_NO"])
    member = card["MEMBER_ID"]

    buy(graded, "G1", 600, ms(2026, 1, 10), member, clock)
    assert graded.grades.level(member) == 0
    buy(graded, "G2", 450, ms(2026, 1, 31), member, clock)

    assert graded.grades.level(member) == 1
    database = database_of(app)
    [entry] = database["member/log"].find({"MemberID": member})
    assert entry["Type"] == "等级变更" and "普卡升级为银卡" in entry["Contents"]
    assert database["welab/feeds"].find_one({"action": "grade_change", "wxid": "oGrowing"})
    log = database["lavico/user/logs"].find_one({"action": "grade_change"})
    assert (log["data"]["from"], log["data"]["to"], log["data"]["reason"]) == (0, 1, "purchase")
    [message] = database["wxmember/template_messages"].find()
    assert message["openid"] == "oGrowing" and message["data"]["grade"] == "银卡"


def refund(system, form_id, yuan, of, when, member=MEMBER, clock=None):
    clock.set(when)
    body = {"formId": form_id, "memberID": member, "type": "refund", "amount": yuan}
    return system.transactions.apply(parse({**body, "refundOf": of}))


def test_downgrade_counts_the_spend_of_the_window(graded, clock):
    buy(graded, "D1", 1000, ms(2026, 1, 31, 12), clock=clock)
    assert graded.grades.level(MEMBER) == 1  # upgraded on Jan 31st

    assert graded.grades.evaluate(MEMBER, now=ms(2026, 4, 30, 12)) is None  # Jan 31st's 1000 in
    assert graded.grades.evaluate(MEMBER, now=ms(2026, 5, 1, 12)) == 0  # spend since Feb 1st < 500


# The hold: a downgrade is only considered once the grade has been held for the down rule's
# months, counted from GradeDate (seed 002: 等级更新时间, 是否升降级按此时间进行计算). A refund
# right after the upgrade takes the window's spend below the down rule's 500 yuan at once,
# so only the hold keeps the grade until then.
UPGRADED = ms(2026, 2, 10, 12)  # GradeDate of the upgrade below
HELD_UNTIL = ms(2026, 5, 10, 12)  # three calendar months later: from here a downgrade may come


@pytest.fixture
def upgraded_then_refunded(graded, clock):
    buy(graded, "H0", 100, ms(2026, 1, 5), clock=clock)  # a member since January
    buy(graded, "H1", 1000, UPGRADED, clock=clock)
    refund(graded, "H1R", 700, "H1", ms(2026, 2, 11), clock=clock)
    member = graded.grades.member(MEMBER)
    assert (member["GradeID"], member["GradeDate"]) == (1, UPGRADED)
    rule = graded.grades.grades.find_one({"_id": 1})["down"]
    assert graded.grades.measure(MEMBER, rule, HELD_UNTIL) == 300_00  # below the rule's 500
    return graded


@pytest.mark.parametrize(
    "now",
    [
        pytest.param(ms(2026, 2, 11, 12), id="the-day-after-the-refund"),
        pytest.param(ms(2026, 4, 5), id="3-months-after-the-first-purchase-not-the-upgrade"),
        pytest.param(HELD_UNTIL - 1, id="the-last-millisecond-of-the-hold"),
    ],
)
def test_a_grade_is_kept_until_it_has_been_held_for_the_down_rules_months(
    upgraded_then_refunded, now
):
    grades = upgraded_then_refunded.grades
    assert grades.evaluate(MEMBER, now=now) is None
    member = grades.member(MEMBER)
    assert (member["GradeID"], member["GradeDate"]) == (1, UPGRADED)
    assert grades.member_log.count_documents({}) == 1  # the upgrade's entry only


def test_the_hold_ends_at_the_same_moment_the_down_rules_months_later(upgraded_then_refunded):
    grades = upgraded_then_refunded.grades
    assert grades.evaluate(MEMBER, now=HELD_UNTIL) == 0
    member = grades.member(MEMBER)
    assert (member["GradeID"], member["GradeDate"]) == (0, HELD_UNTIL)
    latest = grades.member_log.find_one({"Date": HELD_UNTIL})
    assert "银卡降级为普卡" in latest["Contents"]


def test_the_grade_job_keeps_a_held_grade_and_downgrades_it_after_the_hold(
    upgraded_then_refunded,
):
    grades = upgraded_then_refunded.grades
    held = grades.evaluate_all(now=HELD_UNTIL - 1)
    assert held == {"members": 1, "upgraded": 0, "downgraded": 0}
    assert grades.level(MEMBER) == 1
    after = grades.evaluate_all(now=HELD_UNTIL)
    assert after == {"members": 1, "upgraded": 0, "downgraded": 1}
    assert grades.level(MEMBER) == 0


def test_the_hold_starts_again_at_each_change_of_grade(upgraded_then_refunded, clock):
    grades = upgraded_then_refunded.grades
    assert grades.evaluate(MEMBER, now=HELD_UNTIL) == 0
    again = ms(2026, 6, 1, 9)
    buy(upgraded_then_refunded, "H2", 1000, again, clock=clock)  # upgraded again
    refund(upgraded_then_refunded, "H2R", 900, "H2", ms(2026, 6, 2), clock=clock)
    assert grades.member(MEMBER)["GradeDate"] == again
    assert grades.evaluate(MEMBER, now=ms(2026, 9, 1, 9) - 1) is None  # held since June 1st
    assert grades.evaluate(MEMBER, now=ms(2026, 9, 1, 9)) == 0


def test_enough_recent_spend_keeps_the_grade(graded, clock):
    buy(graded, "K1", 1000, ms(2026, 1, 5), clock=clock)
    buy(graded, "K2", 600, ms(2026, 3, 20), clock=clock)
    assert graded.grades.evaluate(MEMBER, now=ms(2026, 5, 10)) is None
    assert graded.grades.level(MEMBER) == 1


def test_locked_grade_is_kept(graded, clock):
    buy(graded, "L1", 1000, ms(2026, 1, 5), clock=clock)
    graded.grades.set_member(MEMBER, lock=True)
    assert graded.grades.evaluate(MEMBER, now=ms(2026, 9, 1)) is None
    assert graded.grades.level(MEMBER) == 1


def test_orders_and_referrals_with_subordinates(system, clock):
    system.grades.save({"level": 0, "name": "普卡"})
    system.grades.save({"level": 2, "name": "推广大使"})
    system.grades.save(
        {"level": 0, "name": "普卡", "up": {"by": "referrals", "months": 1, "number": 2, "to": 2}}
    )
    clock.set(ms(2026, 6, 1))
    for referred in (1001, 1002):
        system.grades.set_member(referred, referrer=MEMBER)
    assert system.grades.evaluate(MEMBER, now=ms(2026, 6, 15)) == 2

    rule = {"by": "orders", "months": 1, "number": 0, "to": 0, "includeSubordinates": True}
    buy(system, "O1", 10, ms(2026, 6, 10), member=1001, clock=clock)
    buy(system, "O2", 10, ms(2026, 6, 11), member=MEMBER, clock=clock)
    assert system.grades.measure(MEMBER, rule, ms(2026, 6, 20)) == 2
    assert (
        system.grades.measure(MEMBER, {**rule, "includeSubordinates": False}, ms(2026, 6, 20)) == 1
    )


def test_grade_job_evaluates_every_member(graded, clock):
    buy(graded, "J1", 1000, ms(2026, 1, 5), clock=clock)
    counts = graded.grades.evaluate_all(now=ms(2026, 8, 1))
    assert counts == {"members": 1, "upgraded": 0, "downgraded": 1}


# -- points expiry -----------------------------------------------------------------------


def test_expiry_takes_the_oldest_points_first(system, clock):
    system.points.expiry = ExpiryPolicy("days:30")
    points = system.points

    clock.set(ms(2026, 1, 1))
    points.earn(MEMBER, 100, Entry("E1", "消费", "积分"), "e1")
    clock.set(ms(2026, 1, 11))
    points.spend(MEMBER, 30, Entry("S1", "兑换", "积分"), "s1")
    clock.set(ms(2026, 1, 21))
    points.earn(MEMBER, 50, Entry("E2", "消费", "积分"), "e2")

    assert points.expire(MEMBER, now=ms(2026, 1, 30)) == 0  # nothing due yet
    assert points.expire(MEMBER, now=ms(2026, 2, 1)) == 70  # what is left of the first 100
    assert points.balance(MEMBER) == 50
    assert points.expire(MEMBER, now=ms(2026, 2, 5)) == 0  # not twice
    assert points.expire(MEMBER, now=ms(2026, 2, 21)) == 50
    assert system.ledger.audit() == []


def test_year_end_policy_and_never():
    assert ExpiryPolicy("year_end").expires_at(ms(2025, 3, 1)) == ms(2027, 1, 1)
    assert ExpiryPolicy("never").expires_at(ms(2025, 3, 1)) is None
    with pytest.raises(ValueError):
        ExpiryPolicy("soon")


def test_grade_change_template_message_is_sent_once(make_app, wechat_api, clock):
    from jobs.runner import run_job

    app = make_app(
        clock=clock,
        wechat={
            "appsecret": "s",
            "api_base_url": wechat_api.base_url,
            "grade_template_id": "TPL-GRADE",
        },
    )
    services = app.extensions["wxmember"]
    system = services.members
    system.grades.save({"level": 0, "name": "普卡"})
    system.grades.save({"level": 1, "name": "银卡"})
    system.grades.save(
        {"level": 0, "name": "普卡", "up": {"by": "orders", "months": 1, "number": 1, "to": 1}}
    )
    services.records.customers.bind("oTemplate", MEMBER, "W1", 1, "13100000009")
    wechat_api.template_failures = 1
    buy(system, "T1", 10, ms(2026, 3, 1), clock=clock)

    first = run_job(services, "templates")["counts"]
    second = run_job(services, "templates")["counts"]
    third = run_job(services, "templates")["counts"]

    assert (first["failed"], second["sent"], third["sent"]) == (1, 1, 0)
    [sent] = wechat_api.templates
    assert sent["touser"] == "oTemplate" and sent["template_id"] == "TPL-GRADE"
    assert sent["data"]["grade"]["value"] == "银卡"


def test_template_messages_wait_without_a_template_id(app, monkeypatch):
    from jobs.runner import run_job

    services = app.extensions["wxmember"]
    services.database["wxmember/template_messages"].insert_one(
        {"openid": "o", "template": "grade_change", "state": "pending", "data": {}}
    )
    assert run_job(services, "templates")["counts"] == {"sent": 0, "failed": 0, "waiting": 1}

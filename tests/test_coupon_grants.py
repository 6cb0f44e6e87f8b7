"""Coupons given by jobs: birthday coupons in the birthday month, once a year; a grade's coupons
to members upgraded to it."""

from datetime import datetime

import pytest

from jobs.runner import run_job
from tests.conftest import database_of
from tests.coupon_helpers import DAY, MEMBER, NOW, MemberSession, Staff, app_at_now
from wxmember.timeparse import SHANGHAI

MAY_10_1990 = int(datetime(1990, 5, 10, tzinfo=SHANGHAI).timestamp() * 1000)
JUNE_1_1985 = int(datetime(1985, 6, 1, tzinfo=SHANGHAI).timestamp() * 1000)
NEXT_MAY = int(datetime(2027, 5, 3, tzinfo=SHANGHAI).timestamp() * 1000)


@pytest.fixture
def shop(make_app, clock):
    app = app_at_now(make_app, clock)
    app.staff = Staff(app)
    app.services = app.extensions["wxmember"]
    return app


def born(app, member_id, birthday):
    """A bound member with the CRM's birthday on its customer (as the members job writes it)."""
    session = MemberSession(app, member_id)
    app.services.records.customers.refresh_member(member_id, {"birthday": birthday})
    return session


def birthday_coupon(app, **fields):
    body = {"name": "生日券", "kind": "cash", "threshold": 0, "value": 20, "end": None}
    return app.staff.coupon(purpose="birthday", validDays=30, **{**body, **fields})


def test_members_born_this_month_get_their_birthday_coupon_once_a_year(shop, clock):
    may, june = born(shop, MEMBER, MAY_10_1990), born(shop, MEMBER + 1, JUNE_1_1985)
    MemberSession(shop, MEMBER + 2)  # no birthday known
    coupon_id = birthday_coupon(shop)

    run = run_job(shop.services, "birthday_coupons")

    assert run["counts"] == {"members": 3, "born_this_month": 1, "issued": 1, "sold_out": 0}
    [held] = may.coupons()
    assert (held["couponId"], held["source"], held["validUntil"]) == (
        coupon_id,
        "birthday",
        NOW + 30 * DAY,
    )
    assert june.coupons() == []
    logged = database_of(shop)["lavico/user/logs"].find_one({"action": "coupon_grant"})
    assert (logged["wxid"], logged["data"]["reason"]) == (may.openid, "birthday")

    assert run_job(shop.services, "birthday_coupons")["counts"]["issued"] == 0  # once a year
    clock.set(NEXT_MAY)
    assert run_job(shop.services, "birthday_coupons")["counts"]["issued"] == 1
    assert len(may.coupons()) == 2 and june.coupons() == []


def test_birthday_coupons_stop_at_their_stock(shop):
    for n in range(3):
        born(shop, MEMBER + n, MAY_10_1990)
    birthday_coupon(shop, stock=2)
    counts = run_job(shop.services, "birthday_coupons")["counts"]
    assert (counts["issued"], counts["sold_out"]) == (2, 1)


def test_without_a_birthday_coupon_the_job_does_nothing(shop):
    born(shop, MEMBER, MAY_10_1990)
    shop.staff.coupon()  # a coupon to claim, not a birthday one
    counts = run_job(shop.services, "birthday_coupons")["counts"]
    assert counts == {"members": 0, "born_this_month": 0, "issued": 0, "sold_out": 0}


def _grades(app):
    up = {"by": "spend", "months": 12, "number": 100, "to": 1}
    app.staff.ok("POST", "/api/grades", {"level": 1, "name": "VIP"})
    app.staff.ok("POST", "/api/grades", {"level": 0, "name": "普通会员", "up": up})


def _purchase(app, form, amount, member_id=MEMBER):
    body = {"formId": form, "memberID": member_id, "type": "purchase", "amount": amount}
    app.staff.ok("POST", "/api/transactions", body)


def test_a_member_upgraded_to_a_grade_gets_its_coupons_once(shop, clock):
    _grades(shop)
    member, other = MemberSession(shop, MEMBER), MemberSession(shop, MEMBER + 1)
    vip = shop.staff.coupon(name="VIP礼券", purpose="upgrade", grade=1, validDays=7)
    shop.staff.coupon(name="别的等级", purpose="upgrade", grade=0)
    clock.advance(60_000)
    _purchase(shop, "P1", 150)  # spend 150 ≥ 100: VIP at once
    _purchase(shop, "P2", 50, MEMBER + 1)  # not enough

    run = run_job(shop.services, "grade_coupons")

    assert run["counts"] == {"upgrades": 1, "issued": 1, "sold_out": 0}
    [held] = member.coupons()
    assert (held["couponId"], held["source"]) == (vip, "upgrade")
    assert other.coupons() == []
    assert run_job(shop.services, "grade_coupons")["counts"]["issued"] == 0


def test_an_upgrade_before_the_coupon_was_on_offer_gives_nothing(shop, clock):
    _grades(shop)
    member = MemberSession(shop, MEMBER)
    _purchase(shop, "P1", 150)
    clock.advance(60_000)
    shop.staff.coupon(name="VIP礼券", purpose="upgrade", grade=1, start=NOW + 60_000)

    assert run_job(shop.services, "grade_coupons")["counts"]["issued"] == 0
    assert member.coupons() == []

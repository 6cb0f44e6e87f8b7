"""Attacks on seed 003's coupons, checkout and points redemption, as an outsider, a member
and a low-privilege insider: each test is a finding that was real, kept so it stays fixed."""

import pytest

from tests.conftest import count_documents
from tests.coupon_helpers import NOW, MemberSession, Staff, app_at_now, coupon_body


@pytest.fixture
def app(make_app, clock):
    return app_at_now(make_app, clock)


@pytest.fixture
def staff(app):
    return Staff(app)


# -- a time no page can show ---------------------------------------------------------------


@pytest.mark.parametrize(
    "fields",
    [
        {"end": NOW * 1000},  # microseconds sent for milliseconds: year 58,000
        {"end": 2**53 - 1},  # the largest "whole number" the checks let through
        {"start": NOW * 1000 - 1, "end": NOW * 1000},
    ],
)
def test_a_coupon_time_past_the_year_9999_is_refused_and_every_page_stays_up(app, staff, fields):
    """A coupon whose end (or start) no calendar can show used to be stored: from then on
    the member's 领券 and 我的优惠券 pages and the console's coupon list answered 500 for
    everyone, and a started coupon can never be changed to repair it."""
    before = count_documents(app)
    status, answer = staff("POST", "/api/coupons", coupon_body(**fields))
    assert (status, answer["error"]) == (400, "invalid_coupon"), answer
    assert count_documents(app) == before

    member = MemberSession(app)
    assert member.client.get("/m/coupons?status=claim").status_code == 200
    assert member.client.get("/m/coupons").status_code == 200


# -- a coupon sold for points is free on the 领券 tab ----------------------------------------


def test_a_coupon_members_claim_free_cannot_be_sold_for_points(app, staff):
    """The admin defined 10元券 (members claim it: the default) and put it on offer for
    1,500 points: a member with no points claimed the very same coupon free. A coupon
    sold for points is now one of purpose redemption, which no one claims."""
    free = staff.coupon(name="10元券", kind="cash", threshold=0, value=10)
    item = {"name": "10元券", "points": 1500, "stock": 100, "couponId": free}
    status, answer = staff("POST", "/api/redemptions", item)
    assert (status, answer["error"]) == (400, "invalid_item") and "积分兑换" in answer["message"]

    sold = staff.coupon(name="10元券", kind="cash", threshold=0, value=10, purpose="redemption")
    staff.ok("POST", "/api/redemptions", {**item, "couponId": sold})
    member = MemberSession(app)
    status, answer = member.claim(sold, requestId="free")
    assert status == 409, answer
    assert member.coupons() == []
    claimable = member("GET", "/m/api/coupons/claimable")[1]["items"]
    assert all(c["couponId"] != sold for c in claimable)


def test_a_shake_activity_ending_past_the_year_9999_is_refused(app, staff):
    """The same for the shake: its times are shown on the console and the shake page."""
    body = {
        "name": "周末摇一摇",
        "start": NOW,
        "end": NOW * 1000,
        "prizes": [{"promotion_code": "CQL201404010004", "lottery_chance": 30, "stock": 100}],
    }
    before = count_documents(app)
    status, answer = staff("POST", "/api/activities", body)
    assert status == 400 and "end" in answer["message"], answer
    assert count_documents(app) == before

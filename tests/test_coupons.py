"""Coupon definitions (seed 003 §四) through the staff API: fields, checks, no edits once begun."""

import pytest

from tests.conftest import database_of
from tests.console_helpers import add_staff
from tests.coupon_helpers import HOUR, NOW, Staff, app_at_now
from tests.coupon_helpers import coupon_body as minus


@pytest.fixture
def coupon_app(make_app, clock):
    return app_at_now(make_app, clock)


@pytest.fixture
def staff(coupon_app):
    return Staff(coupon_app)


def test_a_coupon_is_defined_with_the_seed_fields_and_listed_in_yuan(coupon_app, staff):
    status, answer = staff("POST", "/api/coupons", minus(productIds=["SKU-1", "SKU-1", "SKU-2"]))
    assert status == 200, answer
    coupon_id = answer["couponId"]

    status, listed = staff("GET", "/api/coupons")

    assert status == 200
    [coupon] = listed["items"]
    assert coupon["couponId"] == coupon_id
    assert (coupon["threshold"], coupon["value"]) == (100, 10)
    assert coupon["description"] == "满100元减10元"
    counters = (coupon["stock"], coupon["issued"], coupon["used"], coupon["remaining"])
    assert counters == (100, 0, 0, 100)
    assert coupon["productIds"] == ["SKU-1", "SKU-2"]
    assert (coupon["state"], coupon["stateName"], coupon["editable"]) == ("issuing", "已发", False)
    stored = database_of(coupon_app)["member/coupons"].find_one({"_id": coupon_id})
    assert (stored["threshold"], stored["value"]) == (10000, 1000)  # fen, as the ledgers


@pytest.mark.parametrize(
    ("body", "described"),
    [
        ({"kind": "discount", "threshold": 0, "value": 0.85}, "8.5折"),
        ({"kind": "discount", "threshold": 200, "value": 0.8}, "满200元8折"),
        ({"kind": "cash", "threshold": 0, "value": 20}, "无门槛20元代金券"),
        ({"kind": "cash", "threshold": 50, "value": 5.5}, "满50元5.5元代金券"),
    ],
)
def test_each_kind_describes_itself_as_a_member_reads_it(staff, body, described):
    status, answer = staff("POST", "/api/coupons", minus(**body))
    assert status == 200, answer
    assert answer["coupon"]["description"] == described


def test_defaults_no_limit_one_per_member_start_now_for_all_products(staff):
    body = {"name": "代金券", "kind": "cash", "value": 5, "stackGrade": False, "stackPoints": False}
    status, answer = staff("POST", "/api/coupons", body)
    assert status == 200, answer
    coupon = answer["coupon"]
    assert (coupon["stock"], coupon["remaining"], coupon["perMember"]) == (None, None, 1)
    assert (coupon["start"], coupon["end"], coupon["validDays"]) == (NOW, None, None)
    assert (coupon["threshold"], coupon["productIds"], coupon["purpose"]) == (0, [], "claim")


@pytest.mark.parametrize(
    "fields",
    [
        {"kind": "minus", "threshold": 0},  # 满减 needs its 满
        {"kind": "minus", "threshold": 5, "value": 10},  # 减 more than 满
        {"kind": "discount", "value": 1},  # no discount at all
        {"kind": "discount", "value": 1.5},
        {"kind": "discount", "value": 0.855},  # a rate with three decimals
        {"kind": "cash", "value": 0},
        {"value": 10.001},
        {"kind": "coupon"},
        {"stock": 0},
        {"perMember": 0},
        {"end": NOW - HOUR - 1},  # ends before it starts
        {"start": NOW - 3 * HOUR, "end": NOW - HOUR},  # over already
        {"validDays": 0},
        {"stackGrade": None},
        {"stackPoints": "yes"},
        {"purpose": "upgrade"},  # an upgrade coupon names its grade
        {"purpose": "claim", "grade": 1},
        {"productIds": [""]},
        {"name": "  "},
    ],
)
def test_a_definition_that_breaks_a_rule_is_refused_and_nothing_is_stored(
    coupon_app, staff, fields
):
    status, answer = staff("POST", "/api/coupons", minus(**fields))
    assert (status, answer["error"]) == (400, "invalid_coupon"), answer
    assert database_of(coupon_app)["member/coupons"].count_documents({}) == 0


def test_an_upgrade_coupon_names_a_grade_that_exists(staff):
    status, answer = staff("POST", "/api/coupons", minus(purpose="upgrade", grade=2))
    assert (status, answer["error"]) == (400, "invalid_coupon")
    assert "等级 2 不存在" in answer["message"]
    assert staff("POST", "/api/grades", {"level": 2, "name": "金卡"})[0] == 200
    status, answer = staff("POST", "/api/coupons", minus(purpose="upgrade", grade=2))
    assert status == 200, answer
    assert (answer["coupon"]["purpose"], answer["coupon"]["grade"]) == ("upgrade", 2)


def test_a_coupon_that_has_not_started_can_be_edited(staff):
    later = minus(start=NOW + HOUR)
    coupon_id = staff("POST", "/api/coupons", later)[1]["couponId"]
    assert staff("GET", f"/api/coupons/{coupon_id}")[1]["coupon"]["state"] == "pending"

    edited = {**later, "name": "满200减30", "threshold": 200, "value": 30, "stock": 50}
    status, answer = staff("POST", f"/api/coupons/{coupon_id}", edited)

    assert status == 200, answer
    coupon = staff("GET", f"/api/coupons/{coupon_id}")[1]["coupon"]
    assert (coupon["name"], coupon["threshold"], coupon["value"], coupon["stock"]) == (
        "满200减30",
        200,
        30,
        50,
    )
    assert (coupon["stateName"], coupon["editable"]) == ("待发", True)


def test_once_started_neither_its_quantity_nor_its_content_changes(coupon_app, staff, clock):
    """Seed 003 §三: 活动开始后，不支持修改券数量以及券的内容."""
    coupon_id = staff("POST", "/api/coupons", minus(start=NOW + HOUR))[1]["couponId"]
    clock.advance(HOUR)  # it starts

    for change in ({"stock": 1000}, {"value": 50}, {"name": "新名字"}):
        body = minus(start=NOW + HOUR, **change)
        status, answer = staff("POST", f"/api/coupons/{coupon_id}", body)
        assert (status, answer["error"]) == (409, "coupon_started"), change
        assert answer["message"] == "券已开始发放，不能再修改数量和内容"

    coupon = staff("GET", f"/api/coupons/{coupon_id}")[1]["coupon"]
    assert (coupon["stock"], coupon["value"], coupon["name"]) == (100, 10, "满100减10")


def test_an_unknown_coupon_is_404(staff):
    assert staff("GET", "/api/coupons/nope")[0] == 404
    status, answer = staff("POST", "/api/coupons/nope", minus())
    assert (status, answer["error"]) == (404, "unknown_coupon")


def test_defining_coupons_takes_an_admin_reading_them_a_viewer(coupon_app, staff):
    tokens = coupon_app.extensions["wxmember"].staff.tokens
    headers = {}
    for username, role in (("vera", "viewer"), ("otto", "operator"), ("ada", "admin")):
        add_staff(coupon_app, username, role)
        headers[role] = {"Authorization": f"Bearer {tokens.issue(username)}"}

    for role in ("viewer", "operator"):
        status, answer = staff("POST", "/api/coupons", minus(), headers=headers[role])
        assert (status, answer["error"]) == (403, "forbidden"), role
    assert staff("GET", "/api/coupons", headers=headers["viewer"])[0] == 200
    status, answer = staff("POST", "/api/coupons", minus(), headers=headers["admin"])
    assert status == 200, answer
    coupon_id = answer["couponId"]
    status, _ = staff("POST", f"/api/coupons/{coupon_id}", minus(), headers=headers["operator"])
    assert status == 403

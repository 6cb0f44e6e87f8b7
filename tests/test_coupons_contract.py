"""The coupon, checkout and redemption APIs keep to ``wxmember/web/openapi.yaml``: a real session
(staff define coupons and items, a member claims and redeems, staff quote, commit and refund)
whose every request and answer, refusals included, openapi-core checks against the document."""

import pytest

from tests.console_helpers import bind_member
from tests.coupon_helpers import HOUR, MEMBER, NOW, app_at_now, coupon_body
from tests.test_api_contract import AUTH, Checker, Client


@pytest.fixture
def served(make_app, live_server_for, clock):
    app = app_at_now(make_app, clock)
    bind_member(app, "oContract", MEMBER)
    return app, live_server_for(app).url


def test_a_session_of_coupons_checkout_and_redemption_keeps_to_the_document(served):
    pytest.importorskip("openapi_core")
    app, url = served
    checker = Checker(url)
    staff, member, guest = Client(url, checker, AUTH), Client(url, checker), Client(url, checker)

    # -- definitions -----------------------------------------------------------------------
    minus = staff.call("POST", "/api/coupons", coupon_body(perMember=1))["couponId"]
    cash = staff.call(
        "POST", "/api/coupons", coupon_body(name="代金", kind="cash", threshold=0, value=5)
    )["couponId"]
    staff.call("POST", "/api/coupons", coupon_body(kind="discount", value=0.85, validDays=3))
    staff.call("POST", "/api/coupons", coupon_body(kind="mixed"), status=400, bad=True)
    staff.call("POST", "/api/coupons", coupon_body(threshold=5), status=400)  # 减 > 满
    later = staff.call("POST", "/api/coupons", coupon_body(start=NOW + HOUR))["couponId"]
    staff.call("POST", f"/api/coupons/{later}", coupon_body(start=NOW + HOUR, stock=5))
    staff.call("POST", f"/api/coupons/{minus}", coupon_body(stock=5), status=409)
    staff.call("POST", "/api/coupons/nope", coupon_body(), status=404)
    staff.call("GET", "/api/coupons")
    staff.call("GET", f"/api/coupons/{minus}")
    staff.call("GET", "/api/coupons/nope", status=404)

    # -- the member claims ----------------------------------------------------------------------
    member.call("GET", "/m/api/coupons", status=401, bad=True)
    member.login("oContract")
    guest.login("oGuest")
    member.call("GET", "/m/api/coupons")
    member.call("GET", "/m/api/coupons/claimable")
    number = member.call("POST", f"/m/api/coupons/{minus}/claim", {"requestId": "r1"})["couponNo"]
    member.call("POST", f"/m/api/coupons/{minus}/claim", status=409)
    member.call("POST", f"/m/api/coupons/{later}/claim", status=409)
    member.call("POST", "/m/api/coupons/nope/claim", status=404)
    member.call("POST", f"/m/api/coupons/{cash}/claim", {"requestId": 5}, status=400, bad=True)
    guest.call("POST", f"/m/api/coupons/{cash}/claim", status=403)
    guest.call("GET", "/m/api/coupons")
    staff.call("POST", f"/api/coupons/{cash}/issue", {"memberID": MEMBER, "formId": "G1"})
    staff.call("POST", f"/api/coupons/{cash}/issue", {"memberID": 9, "formId": "G2"}, status=404)
    staff.call("GET", f"/api/coupons/{cash}/holders", params={"limit": 5})
    staff.call("GET", f"/api/members/{MEMBER}/coupons")
    staff.call("GET", "/api/members/9/coupons", status=404)

    # -- checkout --------------------------------------------------------------------------------
    staff.call(
        "POST", f"/api/members/{MEMBER}/points", {"amount": 5000, "reason": "r", "formId": "P"}
    )
    staff.call("GET", "/api/checkout/settings")
    staff.call("POST", "/api/checkout/settings", {"pointsCap": 0.8})
    staff.call("POST", "/api/checkout/settings", {"order": {"grade": 7}}, status=400, bad=True)
    order = {"memberID": MEMBER, "amount": 200, "coupons": [number], "points": 1000}
    staff.call("POST", "/api/checkout/quote", order)
    staff.call("POST", "/api/checkout/quote", {**order, "amount": 50}, status=409)
    staff.call("POST", "/api/checkout/quote", {**order, "coupons": ["CP1"]}, status=404)
    staff.call("POST", "/api/checkout/quote", {**order, "amount": -1}, status=400, bad=True)
    staff.call("POST", "/api/checkout/quote", {**order, "memberID": 9}, status=404)
    committed = staff.call("POST", "/api/checkout/commit", {**order, "formId": "POS-1"})
    staff.call("POST", "/api/checkout/commit", {**order, "formId": "POS-1"})
    staff.call("POST", "/api/checkout/commit", {**order, "formId": "POS-2"}, status=409)
    refund = {"formId": "RF-1", "memberID": MEMBER, "type": "refund", "refundOf": "POS-1"}
    staff.call("POST", "/api/transactions", {**refund, "amount": committed["purchase"]["amount"]})

    # -- redemption ------------------------------------------------------------------------------
    item = staff.call("POST", "/api/redemptions", {"name": "杯子", "points": 100, "stock": 2})
    item_id = item["itemId"]
    staff.call(
        "POST", "/api/redemptions", {"name": "x", "points": 0, "stock": 1}, status=400, bad=True
    )
    staff.call("GET", "/api/redemptions")
    member.call("GET", "/m/api/redemptions")
    member.call("POST", f"/m/api/redemptions/{item_id}", {"requestId": "a"})
    staff.call("POST", f"/api/redemptions/{item_id}/redeem", {"memberID": MEMBER, "formId": "R"})
    member.call("POST", f"/m/api/redemptions/{item_id}", {"requestId": "b"}, status=409)
    member.call("POST", "/m/api/redemptions/nope", status=404)
    guest.call("POST", f"/m/api/redemptions/{item_id}", status=403)

    # -- jobs --------------------------------------------------------------------------------------
    for job in ("coupon_expiry", "birthday_coupons", "grade_coupons"):
        staff.call("POST", f"/api/jobs/{job}", status=202)

    assert checker.problems == [], "\n".join(checker.problems)
    assert checker.checked >= 50
    assert {200, 202, 400, 401, 403, 404, 409} <= checker.statuses

"""积分兑换: items with a points price and stock; a redemption takes points and stock (and issues
its coupon) together or not at all — also under concurrent redemptions."""

import pytest

from tests import coupon_helpers
from tests.conftest import database_of
from tests.console_helpers import add_staff
from tests.coupon_helpers import MEMBER, NOW, MemberSession, at_once


@pytest.fixture
def shop(make_app, clock):
    return Shop(coupon_helpers.app_at_now(make_app, clock))


class Shop(coupon_helpers.Shop):
    def __init__(self, app):
        super().__init__(app, 2500)

    def item(self, **fields):
        body = {"name": "保温杯", "points": 1000, "stock": 5, **fields}
        return self.staff.ok("POST", "/api/redemptions", body)["itemId"]

    def remaining(self, item_id):
        items = self.staff.ok("GET", "/api/redemptions")["items"]
        return next(i["remaining"] for i in items if i["itemId"] == item_id)


def test_a_member_exchanges_points_for_an_item(shop):
    item_id = shop.item()

    status, answer = shop.member("POST", f"/m/api/redemptions/{item_id}", {"requestId": "r1"})

    assert status == 200, answer
    assert (answer["name"], answer["points"], answer["balance"]) == ("保温杯", 1000, 1500)
    assert shop.remaining(item_id) == 4
    row = database_of(shop.app)["member/integral"].find_one({"_id": answer["redemptionId"]})
    assert (row["Type"], row["Subject"], row["Integral"], row["Balance"]) == (
        "积分兑换",
        "保温杯",
        -1000,
        1500,
    )
    page = shop.member("GET", "/m/api/redemptions")[1]
    assert page["points"] == 1500 and [r["redemptionId"] for r in page["redeemed"]] == [
        answer["redemptionId"]
    ]
    assert [i["remaining"] for i in page["items"]] == [4]
    logged = database_of(shop.app)["lavico/user/logs"].find_one({"action": "points_redeem"})
    assert logged["data"]["itemId"] == item_id


def test_a_repeated_request_is_one_redemption(shop):
    item_id = shop.item()
    first = shop.member("POST", f"/m/api/redemptions/{item_id}", {"requestId": "r1"})[1]
    again = shop.member("POST", f"/m/api/redemptions/{item_id}", {"requestId": "r1"})[1]
    assert first["redemptionId"] == again["redemptionId"]
    assert (shop.points(), shop.remaining(item_id)) == (1500, 4)


def test_too_few_points_take_nothing(shop):
    item_id = shop.item(points=3000)
    status, answer = shop.member("POST", f"/m/api/redemptions/{item_id}")
    assert (status, answer["error"], answer["message"]) == (409, "insufficient_points", "积分不足")
    assert (shop.points(), shop.remaining(item_id)) == (2500, 5)


def test_a_sold_out_item_takes_no_points(shop):
    item_id = shop.item(stock=1)
    assert shop.member("POST", f"/m/api/redemptions/{item_id}", {"requestId": "a"})[0] == 200
    status, answer = shop.member("POST", f"/m/api/redemptions/{item_id}", {"requestId": "b"})
    assert (status, answer["error"], answer["message"]) == (409, "sold_out", "礼品已兑完")
    assert shop.points() == 1500
    assert shop.member("GET", "/m/api/redemptions")[1]["items"] == []  # nothing left on offer


def test_a_coupon_item_issues_the_coupon(shop):
    coupon_id = shop.staff.coupon(
        name="兑换券", kind="cash", threshold=0, value=10, purpose="redemption"
    )
    item_id = shop.item(name="10元券", points=500, couponId=coupon_id)

    status, answer = shop.member("POST", f"/m/api/redemptions/{item_id}")

    assert status == 200, answer
    [held] = shop.member.coupons()
    assert (held["couponNo"], held["source"], held["name"]) == (
        answer["couponNo"],
        "redemption",
        "兑换券",
    )


@pytest.mark.mongo
def test_a_coupon_item_whose_coupon_is_gone_takes_neither_points_nor_stock(shop):
    coupon_id = shop.staff.coupon(
        name="兑换券", kind="cash", threshold=0, value=10, stock=1, purpose="redemption"
    )
    item_id = shop.item(name="10元券", points=500, couponId=coupon_id)
    MemberSession(shop.app, MEMBER + 1)
    issued = {"memberID": MEMBER + 1, "formId": "G1"}  # the last coupon goes elsewhere
    shop.staff.ok("POST", f"/api/coupons/{coupon_id}/issue", issued)

    status, answer = shop.member("POST", f"/m/api/redemptions/{item_id}")

    assert (status, answer["error"]) == (409, "sold_out")
    assert (shop.points(), shop.remaining(item_id)) == (2500, 5)
    assert database_of(shop.app)["member/redemptions"].count_documents({}) == 0


def test_staff_redeem_for_a_member_once_per_form_id(shop):
    item_id = shop.item()
    body = {"memberID": MEMBER, "formId": "RD-1"}
    first = shop.staff.ok("POST", f"/api/redemptions/{item_id}/redeem", body)
    again = shop.staff.ok("POST", f"/api/redemptions/{item_id}/redeem", body)
    assert first["redemptionId"] == again["redemptionId"] and again["balance"] == 1500
    status, answer = shop.staff(
        "POST", f"/api/redemptions/{item_id}/redeem", {"memberID": 999, "formId": "RD-2"}
    )
    assert (status, answer["error"]) == (404, "unknown_member")
    status, answer = shop.staff("POST", "/api/redemptions/nope/redeem", body)
    assert (status, answer["error"]) == (404, "unknown_item")


@pytest.mark.parametrize(
    "fields", [{"points": 0}, {"stock": 0}, {"name": ""}, {"couponId": "nope"}, {"points": 1.5}]
)
def test_an_item_that_breaks_a_rule_is_refused(shop, fields):
    body = {"name": "保温杯", "points": 1000, "stock": 5, **fields}
    status, answer = shop.staff("POST", "/api/redemptions", body)
    assert (status, answer["error"]) == (400, "invalid_item")
    assert shop.staff.ok("GET", "/api/redemptions")["items"] == []


def test_a_member_without_a_card_cannot_redeem(shop):
    item_id = shop.item()
    guest = MemberSession(shop.app, bound=False)
    assert guest("GET", "/m/api/redemptions")[1]["bound"] is False
    assert guest("POST", f"/m/api/redemptions/{item_id}")[0] == 403


# -- concurrency (the engine) ----------------------------------------------------------------


@pytest.mark.mongo
def test_concurrent_redemptions_never_pass_the_stock(shop):
    item_id = shop.item(points=100, stock=3)
    for n in range(1, 8):
        MemberSession(shop.app, MEMBER + n)
        shop.give_points(MEMBER + n, 100)
    redemptions = shop.services.members.redemptions

    results = at_once(8, lambda n: redemptions.redeem(MEMBER + n, item_id, f"k{n}"))

    assert sum(isinstance(r, dict) for r in results) == 3
    assert {r.code for r in results if not isinstance(r, dict)} == {"sold_out"}
    assert shop.remaining(item_id) == 0
    spent = sum(100 - shop.points(MEMBER + n) for n in range(1, 8)) + (2500 - shop.points())
    assert spent == 300  # only the three who got one paid


@pytest.mark.mongo
def test_concurrent_redemptions_never_pass_the_points(shop):
    item_id = shop.item(points=1000, stock=100)
    redemptions = shop.services.members.redemptions

    results = at_once(8, lambda n: redemptions.redeem(MEMBER, item_id, f"k{n}"))

    assert sum(isinstance(r, dict) for r in results) == 2  # 2500 points: two of 1000
    assert {r.code for r in results if not isinstance(r, dict)} == {"insufficient_points"}
    assert (shop.points(), shop.remaining(item_id)) == (500, 98)


# -- 上架/下架 and 补库存 (admins) ----------------------------------------------------------------


def _token(shop, username, role):
    add_staff(shop.app, username, role)
    token = shop.services.staff.tokens.issue(username)
    return {"Authorization": f"Bearer {token}"}


def test_an_item_taken_off_offer_is_hidden_and_refused_until_put_back(shop):
    item_id = shop.item()

    status, answer = shop.staff("POST", f"/api/redemptions/{item_id}/active", {"active": False})

    assert status == 200, answer
    assert (answer["item"]["itemId"], answer["item"]["active"]) == (item_id, False)
    assert shop.member("GET", "/m/api/redemptions")[1]["items"] == []
    status, answer = shop.member("POST", f"/m/api/redemptions/{item_id}")
    assert (status, answer["error"], answer["message"]) == (409, "not_offered", "该礼品已下架")
    assert (shop.points(), shop.remaining(item_id)) == (2500, 5)
    shop.staff.ok("POST", f"/api/redemptions/{item_id}/active", {"active": True})
    assert [i["itemId"] for i in shop.member("GET", "/m/api/redemptions")[1]["items"]] == [item_id]
    assert shop.member("POST", f"/m/api/redemptions/{item_id}")[0] == 200


def test_only_an_admin_token_switches_an_item_or_adds_stock(shop):
    item_id = shop.item(stock=2)
    for path, body in (("active", {"active": False}), ("stock", {"add": 3})):
        for username, role in (("olivia", "operator"), ("victor", "viewer")):
            headers = _token(shop, username, role)
            status, answer = shop.staff("POST", f"/api/redemptions/{item_id}/{path}", body, headers)
            assert (status, answer["error"]) == (403, "forbidden"), (path, role)
    [item] = shop.staff.ok("GET", "/api/redemptions")["items"]
    assert (item["active"], item["stock"]) == (True, 2)
    headers = _token(shop, "adam", "admin")
    status, answer = shop.staff("POST", f"/api/redemptions/{item_id}/stock", {"add": 3}, headers)
    assert status == 200 and (answer["item"]["stock"], answer["item"]["remaining"]) == (5, 5)
    audit = shop.services.staff.audit.collection.find_one({"who": "adam"})
    assert audit["action"].endswith(".add_item_stock")


@pytest.mark.parametrize(("path", "body"), [("active", {"active": "no"}), ("stock", {"add": 0})])
def test_a_bad_switch_or_restock_is_refused_and_changes_nothing(shop, path, body):
    item_id = shop.item()
    status, answer = shop.staff("POST", f"/api/redemptions/{item_id}/{path}", body)
    assert (status, answer["error"]) == (400, "invalid_item")
    [item] = shop.staff.ok("GET", "/api/redemptions")["items"]
    assert (item["active"], item["stock"]) == (True, 5)
    status, answer = shop.staff("POST", "/api/redemptions/nope/active", {"active": False})
    assert (status, answer["error"]) == (404, "unknown_item")


def test_an_item_whose_coupon_cannot_be_issued_now_is_not_offered(shop):
    ended = shop.staff.coupon(
        name="已结束", kind="cash", threshold=0, value=10, purpose="redemption", end=NOW + 1
    )
    open_ = shop.staff.coupon(
        name="兑换券", kind="cash", threshold=0, value=10, purpose="redemption"
    )
    shop.item(name="旧券", points=500, couponId=ended)
    shop.item(name="10元券", points=500, couponId=open_)
    shop.app.extensions["wxmember"].clock.advance(2)  # the first coupon has ended

    offered = [item["name"] for item in shop.member("GET", "/m/api/redemptions")[1]["items"]]

    assert offered == ["10元券"]
    staff_list = [item["name"] for item in shop.staff.ok("GET", "/api/redemptions")["items"]]
    assert sorted(staff_list) == ["10元券", "旧券"]  # staff still see it


def test_an_admin_reprices_an_item_and_the_next_redemption_takes_the_new_price(shop):
    item_id = shop.item(points=1000, description="限量款")
    shop.member("POST", f"/m/api/redemptions/{item_id}", {"requestId": "r1"})  # 2500 → 1500
    headers = _token(shop, "olivia", "operator")
    status, _ = shop.staff("POST", f"/api/redemptions/{item_id}", {"points": 800}, headers)
    assert status == 403

    answer = shop.staff.ok("POST", f"/api/redemptions/{item_id}", {"points": 800})

    assert (answer["item"]["points"], answer["item"]["description"]) == (800, "限量款")  # kept
    assert (answer["item"]["stock"], answer["item"]["redeemed"]) == (5, 1)
    shop.member("POST", f"/m/api/redemptions/{item_id}", {"requestId": "r2"})
    assert shop.points() == 700  # 2500 - 1000 - 800: the first kept its price


@pytest.mark.parametrize(
    "body", [{"points": 0}, {"name": ""}, {"points": "800"}, {"description": "长" * 501}]
)
def test_a_bad_change_of_an_item_is_refused_and_changes_nothing(shop, body):
    item_id = shop.item()
    status, answer = shop.staff("POST", f"/api/redemptions/{item_id}", body)
    assert (status, answer["error"]) == (400, "invalid_item")
    [item] = shop.staff.ok("GET", "/api/redemptions")["items"]
    assert (item["name"], item["points"]) == ("保温杯", 1000)
    assert shop.staff("POST", "/api/redemptions/nope", {"points": 5})[0] == 404

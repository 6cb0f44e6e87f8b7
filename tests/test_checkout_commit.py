"""Committing a checkout once per formId: coupons used and points spent with the purchase
recorded through the transactions; racing commits; refunds give back what was used."""

import pytest

from jobs.runner import run_job
from tests import coupon_helpers
from tests.conftest import database_of
from tests.coupon_helpers import DAY, MEMBER, NOW, MemberSession, at_once
from wxmember.members.checkout_commit import Checkout
from wxmember.members.ledger import Entry

BALANCE = 10_000


@pytest.fixture
def shop(make_app, clock):
    app = coupon_helpers.app_at_now(make_app, clock)
    return Shop(app)


class Shop(coupon_helpers.Shop):
    def __init__(self, app):
        super().__init__(app, BALANCE)
        self.staff.ok("POST", "/api/grades", {"level": 0, "name": "银卡", "discount": 0.9})
        coupon_id = self.staff.coupon(stock=10, perMember=5)  # 满100减10
        self.coupon_id = coupon_id

    def coupon(self, form="G1", member_id=MEMBER):
        body = {"memberID": member_id, "formId": form}
        return self.staff.ok("POST", f"/api/coupons/{self.coupon_id}/issue", body)["couponNo"]

    def commit(self, form, amount=200, coupons=(), points=0, **extra):
        body = {"formId": form, "memberID": MEMBER, "amount": amount, "coupons": list(coupons)}
        return self.staff("POST", "/api/checkout/commit", {**body, "points": points, **extra})

    def held(self, number):
        return next(c for c in self.member.coupons() if c["couponNo"] == number)

    def refund(self, form, of, amount):
        body = {"formId": form, "memberID": MEMBER, "type": "refund", "amount": amount}
        return self.staff.ok("POST", "/api/transactions", {**body, "refundOf": of})


def test_a_commit_uses_the_coupon_spends_the_points_and_records_the_purchase(shop):
    number = shop.coupon()

    status, answer = shop.commit("POS-1", 200, [number], points=2000)

    assert status == 200, answer
    # grade 20 + 满100减10 10 on 200 (rank 1), then 20 yuan of points on 170 (rank 2)
    assert (answer["status"], answer["total"], answer["pointsUsed"]) == ("done", 150, 2000)
    assert answer["purchase"] == {
        "formId": "POS-1",
        "amount": 170,
        "pointsSpent": 2000,
        "pointsEarned": 0,
    }
    held = shop.held(number)
    assert (held["status"], held["usedAt"]) == ("used", NOW)
    assert shop.points() == BALANCE - 2000
    tx = database_of(shop.app)["member/transactions"].find_one({"_id": "POS-1"})
    assert (tx["type"], tx["amount"], tx["pointsSpent"], tx["status"]) == (
        "purchase",
        17000,
        2000,
        "applied",
    )
    assert tx["checkout"] == {"subtotal": 20000, "discount": 3000, "coupons": [number]}
    definition = shop.staff.ok("GET", f"/api/coupons/{shop.coupon_id}")["coupon"]
    assert definition["used"] == 1
    status, answer = shop.staff(
        "POST", "/api/checkout/quote", {"memberID": MEMBER, "amount": 200, "coupons": [number]}
    )
    assert (status, answer["error"]) == (409, "coupon_used")


def test_a_repeat_of_the_form_id_answers_the_first_commit_and_changes_nothing(shop):
    number = shop.coupon()
    first = shop.commit("POS-1", 200, [number], points=1000)[1]

    again = shop.commit("POS-1", 200, [number], points=1000)
    other_body = shop.commit("POS-1", 999, [], points=0)

    assert again == (200, first)
    assert other_body == (200, first)
    assert shop.points() == BALANCE - 1000
    rows = database_of(shop.app)["member/integral"].count_documents({"FormID": "POS-1"})
    assert rows == 1


def test_a_form_id_taken_by_another_member_or_transaction_is_refused(shop):
    MemberSession(shop.app, MEMBER + 1)
    shop.commit("POS-1", 100)
    body = {"formId": "POS-1", "memberID": MEMBER + 1, "amount": 100}
    status, answer = shop.staff("POST", "/api/checkout/commit", body)
    assert (status, answer["error"]) == (409, "form_id_taken")
    tx = {"formId": "TX-1", "memberID": MEMBER, "type": "purchase", "amount": 5}
    shop.staff.ok("POST", "/api/transactions", tx)
    status, answer = shop.commit("TX-1", 100)
    assert (status, answer["error"]) == (409, "form_id_taken")


def test_a_refused_commit_writes_nothing(shop):
    number = shop.coupon()
    status, answer = shop.commit("POS-1", 50, [number])  # 满100减10 on 45
    assert (status, answer["error"]) == (409, "threshold_not_met")
    assert shop.held(number)["status"] == "valid"
    database = database_of(shop.app)
    assert database["member/checkouts"].count_documents({}) == 0
    assert database["member/transactions"].count_documents({}) == 0


def test_a_full_refund_gives_back_the_coupons_and_the_points(shop):
    number = shop.coupon()
    shop.commit("POS-1", 200, [number], points=2000)

    shop.refund("RF-1", "POS-1", 100)  # half of the 170 recorded: points in proportion

    assert shop.held(number)["status"] == "used"
    assert shop.points() == BALANCE - 2000 + round(2000 * 100 / 170)

    shop.refund("RF-2", "POS-1", 70)  # the rest

    held = shop.held(number)
    assert (held["status"], held["usedAt"]) == ("valid", None)
    assert shop.points() == BALANCE
    assert shop.staff.ok("GET", f"/api/coupons/{shop.coupon_id}")["coupon"]["used"] == 0
    record = shop.services.members.checkout.get("POS-1")
    assert (record["couponsReturned"], record["refundedBy"]) == ([number], "RF-2")
    again = shop.commit("POS-2", 200, [number])  # the coupon works again
    assert again[0] == 200, again


def test_a_coupon_given_back_after_its_time_is_expired(shop, clock):
    number = shop.coupon()
    shop.commit("POS-1", 200, [number])
    clock.advance(DAY)  # the coupon's end
    shop.refund("RF-1", "POS-1", 170)
    assert shop.held(number)["status"] == "expired"


class FailingTransactions:
    """The purchase step dies (a crash after the coupons were used)."""

    def __init__(self, real):
        self.real = real

    def get(self, form_id):
        return self.real.get(form_id)

    def apply(self, tx):
        raise RuntimeError("the process died here")


class PointsSpentMeanwhile:
    """Another spend takes the member's points between the quote and the purchase."""

    def __init__(self, real, points):
        self.real, self.points = real, points

    def get(self, form_id):
        return self.real.get(form_id)

    def apply(self, tx):
        self.points.spend(MEMBER, BALANCE, Entry("ELSEWHERE", "消费", "别处"), "elsewhere")
        return self.real.apply(tx)


def _checkout_with(shop, transactions):
    real = shop.services.members.checkout
    return Checkout(
        shop.services.database, real.quoting, real.wallet, transactions, shop.services.clock
    )


def test_a_checkout_left_pending_by_a_crash_is_finished_by_the_job(shop, clock):
    number = shop.coupon()
    body = {"memberID": MEMBER, "amount": 200, "coupons": [number], "points": 1000}
    broken = _checkout_with(shop, FailingTransactions(shop.services.members.transactions))
    with pytest.raises(RuntimeError):
        broken.commit(body, "POS-1")
    assert shop.held(number)["status"] == "used"  # taken, purchase not yet recorded
    assert run_job(shop.services, "coupon_expiry")["counts"]["finished"] == 0  # too fresh

    clock.advance(10 * 60_000)
    run = run_job(shop.services, "coupon_expiry")

    assert run["counts"]["finished"] == 1
    assert shop.services.members.checkout.get("POS-1")["status"] == "done"
    assert shop.points() == BALANCE - 1000
    assert shop.commit("POS-1", 200, [number], points=1000)[1]["status"] == "done"


def test_a_purchase_refused_after_the_quote_gives_the_coupons_back(shop):
    number = shop.coupon()
    body = {"memberID": MEMBER, "amount": 200, "coupons": [number], "points": 1000}
    members = shop.services.members
    racing = _checkout_with(shop, PointsSpentMeanwhile(members.transactions, members.points))

    with pytest.raises(Exception) as refused:
        racing.commit(body, "POS-1")

    assert (refused.value.code, refused.value.message) == ("insufficient_points", "积分不足")
    assert shop.held(number)["status"] == "valid"
    assert members.checkout.get("POS-1")["status"] == "refused"
    status, answer = shop.commit("POS-1", 200, [number], points=1000)  # the repeat: the same
    assert (status, answer["error"]) == (409, "insufficient_points")


# -- concurrency (the engine) ----------------------------------------------------------------


@pytest.mark.mongo
def test_two_checkouts_racing_for_one_coupon_one_wins(shop):
    number = shop.coupon()
    checkout = shop.services.members.checkout

    def commit(n):
        body = {"memberID": MEMBER, "amount": 200, "coupons": [number], "points": 1000}
        return checkout.commit(body, f"POS-{n}")

    results = at_once(4, commit)

    done = [r for r in results if isinstance(r, dict)]
    refused = [r for r in results if not isinstance(r, dict)]
    assert len(done) == 1 and done[0]["status"] == "done"
    assert {r.code for r in refused} == {"coupon_used"}
    assert shop.held(number)["status"] == "used"
    assert shop.points() == BALANCE - 1000  # the losers spent nothing
    database = database_of(shop.app)
    assert database["member/transactions"].count_documents({}) == 1
    assert database["member/checkouts"].count_documents({}) == 1


@pytest.mark.mongo
def test_concurrent_repeats_of_one_commit_record_one_purchase(shop):
    number = shop.coupon()
    checkout = shop.services.members.checkout
    body = {"memberID": MEMBER, "amount": 200, "coupons": [number], "points": 1000}

    results = at_once(6, lambda n: checkout.commit(body, "POS-1"))

    assert all(isinstance(r, dict) for r in results), results
    assert shop.services.members.checkout.get("POS-1")["status"] == "done"
    assert shop.points() == BALANCE - 1000
    assert database_of(shop.app)["member/integral"].count_documents({"FormID": "POS-1"}) == 1


def test_a_till_gives_a_whole_checkout_back_by_its_form_id(shop):
    number = shop.coupon()
    shop.commit("POS-1", 200, [number], points=2000)  # 150 paid, 2000 points, recorded at 170
    refund = {"formId": "POS-1", "refundFormId": "POS-1-R"}

    status, answer = shop.staff("POST", "/api/checkout/refund", refund)

    assert status == 200, answer
    assert (answer["amount"], answer["pointsReturned"], answer["couponsReturned"]) == (
        170,
        2000,
        [number],
    )
    assert shop.points() == BALANCE and shop.held(number)["status"] == "valid"
    again = shop.staff("POST", "/api/checkout/refund", refund)  # the till sent it twice
    assert again == (200, answer) and shop.points() == BALANCE
    status, answer = shop.staff(
        "POST", "/api/checkout/refund", {"formId": "POS-1", "refundFormId": "POS-1-R2"}
    )
    assert (status, answer["error"]) == (409, "already_refunded")


def test_after_a_part_refund_the_checkout_refund_gives_back_the_rest_and_the_coupons(shop):
    number = shop.coupon()
    shop.commit("POS-1", 200, [number], points=2000)
    shop.refund("R-1", "POS-1", 85)  # half of the 170 recorded: half the points back
    assert shop.points() == BALANCE - 1000 and shop.held(number)["status"] == "used"

    answer = shop.staff.ok(
        "POST", "/api/checkout/refund", {"formId": "POS-1", "refundFormId": "R-2"}
    )

    assert answer["amount"] == 85 and answer["couponsReturned"] == [number]
    assert shop.points() == BALANCE and shop.held(number)["status"] == "valid"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"formId": "NOPE", "refundFormId": "R-1"}, "unknown_checkout"),
        ({"formId": "POS-1", "refundFormId": "POS-1"}, "form_id_taken"),
        ({"formId": "POS-1"}, "invalid_form_id"),
    ],
)
def test_a_checkout_refund_that_cannot_be_made_changes_nothing(shop, body, code):
    shop.commit("POS-1", 200, points=2000)
    before = shop.points()
    status, answer = shop.staff("POST", "/api/checkout/refund", body)
    assert answer["error"] == code and status in (400, 404, 409), answer
    assert shop.points() == before

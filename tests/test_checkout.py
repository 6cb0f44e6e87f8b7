"""The checkout quote of seed 003 §七: grade discount, coupons and points in the configured order
(same rank: same base; later ranks: what is left), the points rate and cap, stacking, refusals."""

import itertools

import pytest

from tests import coupon_helpers
from tests.conftest import database_of
from tests.console_helpers import add_staff
from tests.coupon_helpers import DAY, MEMBER, MemberSession

KINDS = {  # on an order of 200 yuan
    "minus": {"name": "满100减20", "kind": "minus", "threshold": 100, "value": 20},
    "discount": {"name": "八折券", "kind": "discount", "threshold": 0, "value": 0.8},
    "cash": {"name": "10元代金券", "kind": "cash", "threshold": 0, "value": 10},
}
GRADE = {"level": 0, "name": "银卡", "discount": 0.9}
POINTS = 5000  # 50 yuan at the default 100 points a yuan


@pytest.fixture
def shop(make_app, clock):
    app = coupon_helpers.app_at_now(make_app, clock)
    return Shop(app)


class Shop(coupon_helpers.Shop):
    """The staff API, one bound member with points, and coupons issued to it."""

    def __init__(self, app):
        super().__init__(app, 100_000)
        self.forms = itertools.count(1)

    def give(self, member_id=MEMBER, **fields):
        """Define a coupon and issue it to the member; its coupon number."""
        coupon_id = self.staff.coupon(**fields)
        body = {"memberID": member_id, "formId": f"G{next(self.forms)}"}
        return self.staff.ok("POST", f"/api/coupons/{coupon_id}/issue", body)["couponNo"]

    def grade(self, **fields):
        self.staff.ok("POST", "/api/grades", {**GRADE, **fields})

    def order(self, **ranks):
        self.staff.ok("POST", "/api/checkout/settings", {"order": ranks})

    def quote(self, amount, coupons=(), points=0, **extra):
        body = {"memberID": MEMBER, "amount": amount, "coupons": list(coupons), "points": points}
        return self.staff("POST", "/api/checkout/quote", {**body, **extra})

    def total(self, amount, **kwargs):
        status, answer = self.quote(amount, **kwargs)
        assert status == 200, answer
        return answer["total"]

    def ways(self, pair):
        """Set up the ways of ``pair``: coupons issued, the grade defined; quote arguments."""
        coupons, points = [], 0
        for way in pair:
            if way in KINDS:
                coupons.append(self.give(**KINDS[way]))
            elif way == "grade":
                self.grade()
            else:
                points = POINTS
        return {"coupons": coupons, "points": points}


PAIRS = list(itertools.combinations(["minus", "discount", "cash", "grade", "points"], 2))
# seed 003 §七's table: coupon 1, grade 1, points 2 (coupons and grade share the base of 200)
DEFAULT_ORDER = {
    ("minus", "discount"): 140,  # 20 + 40 off 200
    ("minus", "cash"): 170,
    ("discount", "cash"): 150,
    ("minus", "grade"): 160,  # 20 + 20 off 200
    ("discount", "grade"): 140,  # 40 + 20 off 200
    ("cash", "grade"): 170,
    ("minus", "points"): 130,  # 200 - 20 = 180, then 50 of points
    ("discount", "points"): 110,
    ("cash", "points"): 140,
    ("grade", "points"): 130,
}
# points 1, grade 2, coupon 3: each on what the rank before left
REVERSED_ORDER = {
    ("minus", "discount"): 140,
    ("minus", "cash"): 170,
    ("discount", "cash"): 150,
    ("minus", "grade"): 160,  # 200 - 20 = 180 ≥ 100: 20 off
    ("discount", "grade"): 144,  # 200 - 20 = 180, 八折 takes 36
    ("cash", "grade"): 170,
    ("minus", "points"): 130,  # 200 - 50 = 150, 20 off
    ("discount", "points"): 120,  # 200 - 50 = 150, 八折 takes 30
    ("cash", "points"): 140,
    ("grade", "points"): 135,  # 200 - 50 = 150, 九折 takes 15
}


@pytest.mark.parametrize("pair", PAIRS, ids="+".join)
def test_every_pair_of_kinds_in_the_seeds_order(shop, pair):
    assert shop.total(200, **shop.ways(pair)) == DEFAULT_ORDER[pair]


@pytest.mark.parametrize("pair", PAIRS, ids="+".join)
def test_every_pair_of_kinds_in_the_reverse_order(shop, pair):
    shop.order(points=1, grade=2, coupon=3)
    assert shop.total(200, **shop.ways(pair)) == REVERSED_ORDER[pair]


def test_the_steps_show_each_base_and_amount(shop):
    shop.grade()
    minus = shop.give(**KINDS["minus"])

    status, answer = shop.quote(200, coupons=[minus], points=POINTS)

    assert status == 200, answer
    assert [(s["kind"], s["rank"], s["base"], s["amount"]) for s in answer["steps"]] == [
        ("grade", 1, 200, 20),
        ("minus", 1, 200, 20),  # the same base as the grade: same rank
        ("points", 2, 160, 50),
    ]
    assert answer["steps"][1]["couponNo"] == minus and answer["steps"][2]["points"] == POINTS
    assert (answer["subtotal"], answer["discount"], answer["total"]) == (200, 90, 110)
    assert (answer["pointsUsed"], answer["coupons"]) == (POINTS, [minus])
    assert answer["grade"] == {"level": 0, "name": "银卡", "discount": 0.9}


def test_a_threshold_is_checked_on_what_the_earlier_ranks_left(shop):
    """§七: "主要在满减抵扣时有影响"."""
    shop.grade()
    minus = shop.give(name="满100减10", kind="minus", threshold=100, value=10)
    assert shop.total(100, coupons=[minus]) == 80  # same rank: 100 reaches 满100

    shop.order(grade=1, coupon=2)
    status, answer = shop.quote(100, coupons=[minus])

    assert (status, answer["error"]) == (409, "threshold_not_met")
    assert answer["message"] == "优惠券「满100减10」需满100元使用，本单可用金额为90元"


def test_points_pay_at_the_rate_up_to_the_cap(shop):
    assert shop.total(200, points=POINTS) == 150  # 5000 points = 50 yuan
    status, answer = shop.quote(200, points=50_000)  # 500 yuan asked, half of 200 allowed
    assert (answer["total"], answer["pointsUsed"]) == (100, 10_000)

    shop.staff.ok("POST", "/api/checkout/settings", {"pointsPerYuan": 1000, "pointsCap": 1})
    status, answer = shop.quote(200, points=POINTS)  # 5 yuan at 1000 a yuan
    assert (answer["total"], answer["pointsUsed"]) == (195, POINTS)
    status, answer = shop.quote(200, points=15)  # 1.5 fen: 1 fen, for 10 points
    assert (answer["total"], answer["pointsUsed"]) == (199.99, 10)


def test_points_beyond_the_balance_are_refused(shop):
    status, answer = shop.quote(2000, points=100_001)
    assert (status, answer["error"], answer["message"]) == (409, "insufficient_points", "积分不足")


def test_the_total_never_goes_below_zero_and_no_step_exceeds_its_base(shop):
    cash = shop.give(name="50元券", kind="cash", threshold=0, value=50)
    status, answer = shop.quote(30, coupons=[cash])
    assert [(s["base"], s["amount"]) for s in answer["steps"]] == [(30, 30)]
    assert answer["total"] == 0

    shop.order(coupon=1, grade=1, points=1)  # all on one base
    other = shop.give(name="80元券", kind="cash", threshold=0, value=80)
    status, answer = shop.quote(100, coupons=[other], points=POINTS)
    steps = [(s["kind"], s["base"], s["amount"]) for s in answer["steps"]]
    assert steps == [("cash", 100, 80), ("points", 100, 20)]  # the points give way first
    assert (answer["total"], answer["pointsUsed"]) == (0, 2000)


def test_a_coupon_left_with_nothing_to_take_off_is_refused(shop):
    shop.grade(discount=0.5)
    cash = shop.give(name="50元券", kind="cash", threshold=0, value=50)
    half = shop.give(name="五折券", kind="discount", threshold=0, value=0.5)
    status, answer = shop.quote(100, coupons=[cash, half])  # grade 50 + cash 50 = all of it
    assert (status, answer["error"]) == (409, "coupon_no_effect")
    assert answer["message"] == "优惠券「五折券」在本单中没有可抵扣的金额"


def test_discounts_round_to_the_fen(shop):
    rate = shop.give(name="85折", kind="discount", threshold=0, value=0.85)
    assert shop.total(99.99, coupons=[rate]) == 84.99  # 99.99 × 0.85 = 84.9915


# -- stacking (和等级叠加, 和积分叠加) ------------------------------------------------------


def test_a_coupon_that_does_not_stack_with_points_refuses_them(shop):
    coupon = shop.give(**KINDS["cash"], stackPoints=False)
    status, answer = shop.quote(200, coupons=[coupon], points=100)
    assert (status, answer["error"]) == (409, "coupon_not_stackable")
    assert answer["message"] == "优惠券「10元代金券」不能与积分抵现同时使用"
    assert shop.total(200, coupons=[coupon]) == 190


def test_a_coupon_that_does_not_stack_with_the_grade_refuses_it_unless_left_out(shop):
    shop.grade()
    coupon = shop.give(**KINDS["cash"], stackGrade=False)
    status, answer = shop.quote(200, coupons=[coupon])
    assert (status, answer["error"]) == (409, "coupon_not_stackable")
    assert answer["message"] == "优惠券「10元代金券」不能与会员等级折扣同时使用"
    assert shop.total(200, coupons=[coupon], useGrade=False) == 190
    assert shop.total(200) == 180


# -- which coupons ------------------------------------------------------------------------


def test_a_coupon_for_some_products_works_on_their_share(shop):
    half = shop.give(name="指定商品五折", kind="discount", threshold=0, value=0.5, productIds=["A"])
    items = [{"productId": "A", "amount": 120}, {"productId": "B", "amount": 80}]

    status, answer = shop.quote(200, coupons=[half], items=items)

    assert status == 200, answer
    assert [(s["base"], s["amount"]) for s in answer["steps"]] == [(120, 60)]
    status, answer = shop.quote(200, coupons=[half])
    assert (status, answer["error"]) == (409, "coupon_not_applicable")
    other = [{"productId": "B", "amount": 200}]
    assert shop.quote(200, coupons=[half], items=other)[1]["error"] == "coupon_not_applicable"
    wrong = [{"productId": "A", "amount": 100}]
    assert shop.quote(200, coupons=[half], items=wrong)[1]["error"] == "invalid_items"


def test_an_expired_coupon_is_refused(shop, clock):
    coupon = shop.give(**KINDS["cash"], validDays=1)
    clock.advance(DAY)
    status, answer = shop.quote(200, coupons=[coupon])
    assert (status, answer["error"], answer["message"]) == (
        409,
        "coupon_expired",
        "优惠券「10元代金券」已过期",
    )


def test_another_members_coupon_is_refused(shop):
    MemberSession(shop.app, MEMBER + 1)
    theirs = shop.give(member_id=MEMBER + 1, **KINDS["cash"])
    status, answer = shop.quote(200, coupons=[theirs])
    assert (status, answer["error"]) == (409, "coupon_not_yours")
    assert shop.quote(200, coupons=["CP404"])[0] == 404


def test_one_coupon_of_a_kind_per_order(shop):
    coupon_id = shop.staff.coupon(**KINDS["cash"], perMember=2)
    numbers = [
        shop.staff.ok(
            "POST", f"/api/coupons/{coupon_id}/issue", {"memberID": MEMBER, "formId": form}
        )["couponNo"]
        for form in ("A", "B")
    ]
    status, answer = shop.quote(200, coupons=numbers)
    assert (status, answer["error"]) == (409, "coupon_repeated")


def test_an_unknown_member_is_404(shop):
    status, answer = shop.staff("POST", "/api/checkout/quote", {"memberID": 999, "amount": 1})
    assert (status, answer["error"]) == (404, "unknown_member")


def test_a_quote_writes_nothing(shop):
    shop.grade()
    coupon = shop.give(**KINDS["minus"])
    database = database_of(shop.app)
    before = {name: database[name].count_documents({}) for name in database.list_collection_names()}
    held = database["member/member_coupons"].find_one({"_id": coupon})

    assert shop.quote(200, coupons=[coupon], points=100)[0] == 200

    after = {name: database[name].count_documents({}) for name in database.list_collection_names()}
    assert after == before
    assert database["member/member_coupons"].find_one({"_id": coupon}) == held


# -- settings --------------------------------------------------------------------------------


def test_the_settings_default_to_the_seeds_order(shop):
    settings = shop.staff.ok("GET", "/api/checkout/settings")["settings"]
    assert settings == {
        "order": {"coupon": 1, "grade": 1, "points": 2},
        "pointsPerYuan": 100,
        "pointsCap": 0.5,
    }
    changed = shop.staff.ok("POST", "/api/checkout/settings", {"order": {"points": 1}})
    assert changed["settings"]["order"] == {"coupon": 1, "grade": 1, "points": 1}


@pytest.mark.parametrize(
    "body",
    [{"order": {"coupon": 4}}, {"order": {"grade": 0}}, {"pointsPerYuan": 0}, {"pointsCap": 1.5}],
)
def test_settings_out_of_bounds_are_refused(shop, body):
    status, answer = shop.staff("POST", "/api/checkout/settings", body)
    assert (status, answer["error"]) == (400, "invalid_settings")
    assert shop.staff.ok("GET", "/api/checkout/settings")["settings"]["pointsCap"] == 0.5


def test_a_quote_is_a_read_a_viewer_may_ask_and_the_audit_does_not_grow(shop):
    add_staff(shop.app, "vera", "viewer")
    token = shop.app.extensions["wxmember"].staff.tokens.issue("vera")
    body = {"memberID": MEMBER, "amount": 100}
    headers = {"Authorization": f"Bearer {token}"}
    audit = database_of(shop.app)["wxmember/audit"]
    before = audit.count_documents({})
    status, answer = shop.staff("POST", "/api/checkout/quote", body, headers=headers)
    assert (status, answer["total"]) == (200, 100)
    assert audit.count_documents({}) == before
    status, _ = shop.staff("POST", "/api/checkout/settings", {"pointsCap": 1}, headers=headers)
    assert status == 403

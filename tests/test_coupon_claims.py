"""Claiming and issuing coupons (seed 003 §四): once per member up to perMember, never beyond
the stock — also under concurrent claims —, listed for the member, issued by staff, expired."""

import pytest

from jobs.runner import run_job
from tests.conftest import database_of
from tests.coupon_helpers import DAY, HOUR, MEMBER, NOW, MemberSession, Staff, app_at_now, at_once


@pytest.fixture
def coupon_app(make_app, clock):
    return app_at_now(make_app, clock)


@pytest.fixture
def staff(coupon_app):
    return Staff(coupon_app)


@pytest.fixture
def member(coupon_app):
    return MemberSession(coupon_app)


def wallet_of(app):
    return app.extensions["wxmember"].members.wallet


def test_a_bound_member_claims_a_coupon_and_finds_it_in_the_list(coupon_app, staff, member):
    coupon_id = staff.coupon(validDays=7)

    status, answer = member.claim(coupon_id)

    assert status == 200, answer
    [held] = member.coupons()
    assert held["couponNo"] == answer["couponNo"] and held["couponId"] == coupon_id
    assert (held["name"], held["status"], held["statusName"]) == ("满100减10", "valid", "可使用")
    assert (held["threshold"], held["value"], held["description"]) == (100, 10, "满100元减10元")
    assert (held["validFrom"], held["validUntil"], held["source"]) == (NOW, NOW + 7 * DAY, "claim")
    definition = staff.ok("GET", f"/api/coupons/{coupon_id}")["coupon"]
    assert (definition["issued"], definition["remaining"]) == (1, 99)
    logged = database_of(coupon_app)["lavico/user/logs"].find_one({"action": "coupon_claim"})
    assert logged["wxid"] == member.openid and logged["data"]["couponNo"] == held["couponNo"]


def test_without_valid_days_a_coupon_is_good_until_the_end_or_forever(staff, member):
    until_end = staff.coupon()
    forever = staff.coupon(name="代金券", kind="cash", threshold=0, value=5, end=None)
    member.claim(until_end)
    member.claim(forever)
    by_id = {c["couponId"]: c for c in member.coupons()}
    assert by_id[until_end]["validUntil"] == NOW + DAY
    assert by_id[forever]["validUntil"] is None


def test_the_same_person_claims_the_same_coupon_once(coupon_app, staff, member):
    """Seed 003 §四: 同一个人同一张券只能领取一次."""
    coupon_id = staff.coupon()
    assert member.claim(coupon_id)[0] == 200

    status, answer = member.claim(coupon_id)

    assert (status, answer["error"], answer["message"]) == (409, "claim_limit", "您已领取过这张券")
    assert len(member.coupons()) == 1
    assert staff.ok("GET", f"/api/coupons/{coupon_id}")["coupon"]["issued"] == 1


def test_per_member_allows_that_many_claims_and_no_more(staff, member):
    coupon_id = staff.coupon(perMember=2)
    assert member.claim(coupon_id)[0] == member.claim(coupon_id)[0] == 200
    status, answer = member.claim(coupon_id)
    assert (status, answer["message"]) == (409, "这张券每人限领2张，您已领完")
    assert len(member.coupons()) == 2


def test_a_repeated_request_id_is_the_same_claim(staff, member):
    coupon_id = staff.coupon(perMember=3)
    first = member.claim(coupon_id, requestId="tap-1")[1]["couponNo"]
    assert member.claim(coupon_id, requestId="tap-1")[1]["couponNo"] == first
    assert member.claim(coupon_id, requestId="tap-2")[1]["couponNo"] != first
    assert len(member.coupons()) == 2


def test_the_stock_is_never_exceeded_and_a_sold_out_claim_writes_nothing(coupon_app, staff):
    coupon_id = staff.coupon(stock=2)
    members = [MemberSession(coupon_app, MEMBER + n) for n in range(3)]
    assert [m.claim(coupon_id)[0] for m in members[:2]] == [200, 200]

    status, answer = members[2].claim(coupon_id)

    assert (status, answer["error"], answer["message"]) == (409, "sold_out", "券已领完")
    assert members[2].coupons() == []
    assert database_of(coupon_app)["member/coupon_claims"].count_documents({}) == 2
    definition = staff.ok("GET", f"/api/coupons/{coupon_id}")["coupon"]
    assert (definition["issued"], definition["state"], definition["stateName"]) == (
        2,
        "sold_out",
        "已领完",
    )


@pytest.mark.parametrize(
    ("fields", "error", "message"),
    [
        ({"start": NOW + HOUR}, "coupon_not_started", "券还未开始发放"),
        ({"purpose": "birthday"}, "not_claimable", "这张券不能领取"),
    ],
)
def test_a_coupon_not_open_to_claims_is_refused(staff, member, fields, error, message):
    coupon_id = staff.coupon(**fields)
    status, answer = member.claim(coupon_id)
    assert (status, answer["error"], answer["message"]) == (409, error, message)
    assert member.coupons() == []


def test_claims_close_at_the_end(staff, member, clock):
    coupon_id = staff.coupon()
    clock.advance(DAY)
    status, answer = member.claim(coupon_id)
    assert (status, answer["error"], answer["message"]) == (409, "coupon_ended", "券已停止发放")


def test_an_unknown_coupon_is_404(member):
    status, answer = member.claim("nope")
    assert (status, answer["error"], answer["message"]) == (404, "unknown_coupon", "没有这张券")


def test_a_member_without_a_card_sees_no_coupons_and_cannot_claim(coupon_app, staff):
    coupon_id = staff.coupon()
    guest = MemberSession(coupon_app, bound=False)
    assert guest("GET", "/m/api/coupons") == (200, {"ok": True, "bound": False, "items": []})
    status, answer = guest.claim(coupon_id)
    assert (status, answer["error"], answer["message"]) == (403, "not_bound", "请先绑定会员卡")
    assert guest("GET", "/m/api/coupons/claimable")[0] == 403


def test_the_api_needs_the_members_session(coupon_app, staff):
    coupon_id = staff.coupon()
    client = coupon_app.test_client()
    assert client.get("/m/api/coupons").status_code == 401
    assert client.post(f"/m/api/coupons/{coupon_id}/claim").status_code == 401


def test_claimable_lists_what_the_member_may_still_claim(coupon_app, staff, member):
    open_ = staff.coupon(perMember=2)
    sold_out = staff.coupon(name="一张", stock=1)
    staff.coupon(name="未开始", start=NOW + HOUR)
    staff.coupon(name="生日券", purpose="birthday")
    MemberSession(coupon_app, MEMBER + 1).claim(sold_out)
    member.claim(open_)

    status, answer = member("GET", "/m/api/coupons/claimable")

    assert status == 200, answer
    [item] = answer["items"]
    assert item["couponId"] == open_
    assert (item["claimed"], item["perMember"], item["canClaim"], item["remaining"]) == (
        1,
        2,
        True,
        99,
    )


# -- staff issuing ---------------------------------------------------------------------


def test_staff_issue_a_coupon_once_per_form_id(coupon_app, staff, member):
    coupon_id = staff.coupon(purpose="birthday", stock=5)
    body = {"memberID": MEMBER, "formId": "GIFT-1"}

    first = staff.ok("POST", f"/api/coupons/{coupon_id}/issue", body)
    again = staff.ok("POST", f"/api/coupons/{coupon_id}/issue", body)
    other = staff.ok("POST", f"/api/coupons/{coupon_id}/issue", {**body, "formId": "GIFT-2"})

    assert first["couponNo"] == again["couponNo"] != other["couponNo"]
    assert first["coupon"]["source"] == "staff" and first["coupon"]["memberID"] == MEMBER
    assert {c["couponNo"] for c in member.coupons()} == {other["couponNo"], first["couponNo"]}
    listed = staff.ok("GET", f"/api/members/{MEMBER}/coupons")["items"]
    assert len(listed) == 2 and listed[0]["usedBy"] is None
    holders = staff.ok("GET", f"/api/coupons/{coupon_id}/holders")["items"]
    assert {h["memberID"] for h in holders} == {MEMBER}
    assert staff.ok("GET", f"/api/coupons/{coupon_id}")["coupon"]["issued"] == 2


def test_staff_cannot_issue_beyond_the_stock_or_to_an_unknown_member(staff, member):
    coupon_id = staff.coupon(stock=1)
    staff.ok("POST", f"/api/coupons/{coupon_id}/issue", {"memberID": MEMBER, "formId": "G1"})
    status, answer = staff(
        "POST", f"/api/coupons/{coupon_id}/issue", {"memberID": MEMBER, "formId": "G2"}
    )
    assert (status, answer["error"]) == (409, "sold_out")
    status, answer = staff(
        "POST", f"/api/coupons/{coupon_id}/issue", {"memberID": 999, "formId": "G3"}
    )
    assert (status, answer["error"]) == (404, "unknown_member")
    assert staff("GET", "/api/members/999/coupons")[0] == 404
    assert staff("GET", "/api/coupons/nope/holders")[0] == 404


# -- expiry ----------------------------------------------------------------------------


def test_a_coupon_past_its_time_shows_expired_and_the_job_marks_it(
    coupon_app, staff, member, clock
):
    short = staff.coupon(validDays=1, end=NOW + 30 * DAY)
    lasting = staff.coupon(name="长期", end=NOW + 30 * DAY)
    member.claim(short)
    member.claim(lasting)
    clock.advance(DAY)  # the short one's day is over

    shown = {c["couponId"]: c["status"] for c in member.coupons()}
    assert shown == {short: "expired", lasting: "valid"}  # before the job too

    run = run_job(coupon_app.extensions["wxmember"], "coupon_expiry")

    assert run["counts"] == {"expired": 1, "finished": 0, "refused": 0}
    stored = database_of(coupon_app)["member/member_coupons"]
    assert stored.find_one({"couponId": short})["status"] == "expired"
    assert run_job(coupon_app.extensions["wxmember"], "coupon_expiry")["counts"]["expired"] == 0


# -- concurrency (the engine: mongomock is not atomic) -----------------------------------


@pytest.mark.mongo
def test_concurrent_claims_never_oversell_the_stock(coupon_app, staff):
    coupon_id = staff.coupon(stock=5)
    wallet = wallet_of(coupon_app)

    results = at_once(16, lambda n: wallet.claim(MEMBER + n, coupon_id))

    claimed = [r for r in results if isinstance(r, dict)]
    refusals = {r.code for r in results if not isinstance(r, dict)}
    assert len(claimed) == 5 and refusals == {"sold_out"}
    assert len({c["_id"] for c in claimed}) == 5
    assert database_of(coupon_app)["member/member_coupons"].count_documents({}) == 5
    assert staff.ok("GET", f"/api/coupons/{coupon_id}")["coupon"]["issued"] == 5


@pytest.mark.mongo
def test_concurrent_claims_of_one_member_never_pass_per_member(coupon_app, staff):
    coupon_id = staff.coupon(stock=100, perMember=2)
    wallet = wallet_of(coupon_app)

    results = at_once(10, lambda n: wallet.claim(MEMBER, coupon_id))

    assert sum(isinstance(r, dict) for r in results) == 2
    assert {r.code for r in results if not isinstance(r, dict)} == {"claim_limit"}
    assert len(wallet.of_member(MEMBER)) == 2
    assert staff.ok("GET", f"/api/coupons/{coupon_id}")["coupon"]["issued"] == 2


@pytest.mark.mongo
def test_concurrent_repeats_of_one_staff_issue_give_one_coupon(coupon_app, staff):
    coupon_id = staff.coupon(stock=100)
    wallet = wallet_of(coupon_app)

    results = at_once(8, lambda n: wallet.issue(MEMBER, coupon_id, "staff:G1", "staff"))

    assert len({r["_id"] for r in results}) == 1
    assert staff.ok("GET", f"/api/coupons/{coupon_id}")["coupon"]["issued"] == 1

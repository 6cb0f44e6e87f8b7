"""What a member reads of their history: the four ledgers (``/m/points``, ``/m/money``),
purchases with their points and refunds (``/m/purchases``) and coupons (``/m/coupons``)."""

import re

import pytest

from jobs.runner import run_job
from tests.conftest import database_of
from tests.crm_helpers import Member, Sim, bound_member, create_activity, staff

CASH = "CQL201404010004"


@pytest.fixture
def history_app(make_app):
    app = make_app(crm={"timeout_s": 2, "retries": 0})
    run_job(app.extensions["wxmember"], "activities")
    return app


def text_of(response):
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def give_points(app, member, amount, form):
    staff(
        app,
        "POST",
        f"/api/members/{member.id}/points",
        {"amount": amount, "reason": "奖励", "formId": form},
    )


# -- the ledgers ---------------------------------------------------------------------------


def test_points_rows_are_newest_first_paged_and_as_staff_see_them(history_app):
    member = bound_member(history_app, "oPoints")
    for n in range(24):
        give_points(history_app, member, n + 1, f"G{n:02d}")

    first = member.client.get("/m/api/ledgers/points").json
    second = member.client.get(f"/m/api/ledgers/points?before={first['next']}").json
    by_staff = staff(history_app, "GET", f"/api/members/{member.id}/ledgers/points?limit=100")

    rows = first["items"] + second["items"]
    assert len(first["items"]) == 20 and second["next"] is None
    assert len(rows) == len(by_staff["items"]) == 25  # with the CRM's opening row
    assert [(r["seq"], r["amount"], r["balance"]) for r in rows] == [
        (r["seq"], r["amount"], r["balance"]) for r in by_staff["items"]
    ]
    assert [r["seq"] for r in rows] == sorted((r["seq"] for r in rows), reverse=True)
    assert first["balance"] == rows[0]["balance"]

    page = member.client.get("/m/points")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and html.count('class="weui-cell row"') == 20
    assert f'href="?before={first["next"]}"' in html and "+24" in html
    older = member.client.get(f"/m/points?before={first['next']}").get_data(as_text=True)
    assert older.count('class="weui-cell row"') == 5 and 'id="more"' not in older


def test_the_three_money_ledgers_are_tabs_in_yuan(history_app):
    member = bound_member(history_app, "oMoney")
    tx = {"formId": "R1", "memberID": member.id, "type": "recharge", "amount": 500}
    staff(history_app, "POST", "/api/transactions", tx)
    staff(
        history_app,
        "POST",
        f"/api/members/{member.id}/money/freeze",
        {"amount": 120.5, "formId": "Z1"},
    )
    staff(
        history_app, "POST", f"/api/members/{member.id}/earnings", {"amount": 8.8, "formId": "E1"}
    )

    money = text_of(member.client.get("/m/money"))
    frozen = text_of(member.client.get("/m/money?kind=frozen"))
    earnings = member.client.get("/m/api/ledgers/earnings").json

    assert "¥379.50 当前余额" in money and "+¥500.00" in money and "-¥120.50" in money
    assert "¥120.50 当前冻结金额" in frozen and "+¥120.50" in frozen
    assert earnings["balance"] == 8.8 and earnings["items"][0]["amount"] == 8.8
    assert "¥8.80" in text_of(member.client.get("/m/money?kind=earnings"))
    assert "¥379.50" in text_of(member.client.get("/m/money?kind=nonsense"))  # the balance tab


def test_purchases_show_their_points_and_refunds(history_app):
    member = bound_member(history_app, "oBuyer")
    rule = {"ruleId": "c", "type": "consumption", "amount": 1, "points": 1}
    staff(history_app, "POST", "/api/point-rules", rule)
    give_points(history_app, member, 100, "G1")
    staff(
        history_app,
        "POST",
        "/api/transactions",
        {"formId": "R9", "memberID": member.id, "type": "recharge", "amount": 50},
    )
    purchase = {"formId": "P1", "memberID": member.id, "type": "purchase", "amount": 200}
    staff(
        history_app, "POST", "/api/transactions", {**purchase, "pointsSpent": 40, "balancePaid": 20}
    )
    staff(
        history_app,
        "POST",
        "/api/transactions",
        {"formId": "F1", "memberID": member.id, "type": "refund", "amount": 50, "refundOf": "P1"},
    )

    items = member.client.get("/m/api/purchases").json["items"]

    assert [i["formId"] for i in items] == ["F1", "P1", "R9"]
    refund, bought, recharge = items
    assert bought["amount"] == 200 and bought["pointsEarned"] == 200 and bought["pointsSpent"] == 40
    assert bought["balancePaid"] == 20 and bought["refunded"] == 50
    assert (
        refund["refundOf"] == "P1"
        and refund["pointsReversed"] == 50
        and refund["pointsReturned"] == 10
    )
    assert refund["balanceReturned"] == 5 and recharge["amount"] == 50
    page = text_of(member.client.get("/m/purchases"))
    assert "已退款 ¥50.00" in page and "原单 P1" in page and "得积分 +200" in page
    assert "积分抵扣 40" in page and "余额支付 ¥20.00" in page and "¥200.00" in page


def test_purchases_page_by_page_without_losing_one_at_the_same_millisecond(
    history_app, clock, make_app
):
    app = make_app(clock=clock, crm={"timeout_s": 2, "retries": 0})
    member = bound_member(app, "oMany")
    for n in range(23):  # all at one moment: the page boundary falls inside it
        staff(
            app,
            "POST",
            "/api/transactions",
            {"formId": f"P{n:02d}", "memberID": member.id, "type": "purchase", "amount": 1},
        )

    first = member.client.get("/m/api/purchases").json
    second = member.client.get("/m/api/purchases", query_string={"before": first["next"]}).json

    forms = [i["formId"] for i in first["items"] + second["items"]]
    assert len(first["items"]) == 20 and second["next"] is None
    assert sorted(forms) == [f"P{n:02d}" for n in range(23)] and len(set(forms)) == 23


# -- coupons -----------------------------------------------------------------------------


def won_coupon(app, member):
    app.extensions["wxmember"].members.points.adjust(
        member.id, 100, "测试", f"SHAKE-{member.openid}"
    )
    aid = create_activity(
        app, [{"promotion_code": CASH, "lottery_chance": 100, "stock": 5, "display_name": "现金券"}]
    )
    won = member.client.post("/m/api/shake", json={"aid": aid, "shakeId": "win"}).json
    assert won["win"] is True
    return won["coupon_no"]


def test_a_coupon_won_by_shaking_is_listed_valid_then_used(history_app):
    member = bound_member(history_app, "oCoupons")
    number = won_coupon(history_app, member)

    valid = member.client.get("/m/coupons").get_data(as_text=True)
    assert number in valid and "现金券" in valid and "有效期至" in valid and "¥500" in valid
    assert "暂时无法" not in valid

    state = history_app.extensions["wxmember"].crm_simulator.app.extensions["crm_state"]
    next(c for c in state.coupons if c["COUPON_NO"] == number)["COUPON_STATUS"] = "03"
    assert number not in member.client.get("/m/coupons").get_data(as_text=True)
    used = member.client.get("/m/coupons?status=used").get_data(as_text=True)
    assert number in used and "已使用" in used
    assert member.me()["coupons"] == {"valid": 0, "total": 1}


def test_coupons_are_still_listed_when_the_crm_does_not_answer(history_app):
    member = bound_member(history_app, "oCrmDown")
    number = won_coupon(history_app, member)
    Sim(history_app).faults(down=True)

    page = member.client.get("/m/coupons").get_data(as_text=True)

    assert number in page and "暂时无法向门店系统确认券的状态" in page
    assert member.me()["coupons"] == {"valid": 1, "total": 1}


# -- who may see what ------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/m/points", "/m/money", "/m/purchases", "/m/coupons"])
def test_a_member_without_a_card_is_led_to_bind_on_every_history_page(history_app, path):
    member = Member(history_app, "oNoCard", Sim(history_app))
    page = member.client.get(path)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "您还没有绑定会员卡" in html and 'href="/m/bind"' in html


@pytest.mark.parametrize(
    "path", ["/m/api/ledgers/points", "/m/api/ledgers/money", "/m/api/purchases"]
)
def test_the_history_api_refuses_a_member_without_a_card(history_app, path):
    member = Member(history_app, "oNoCard", Sim(history_app))
    answer = member.client.get(path)
    assert answer.status_code == 409 and answer.json["error"] == "not_bound"
    assert answer.json["message"] == "请先绑定会员卡"


def test_no_page_shows_another_members_rows(history_app):
    first = bound_member(history_app, "oOne", index=0)
    second = bound_member(history_app, "oTwo", index=1)
    give_points(history_app, first, 31337, "ONLY-FIRST-POINTS")
    staff(
        history_app,
        "POST",
        "/api/transactions",
        {"formId": "ONLY-FIRST-TX", "memberID": first.id, "type": "purchase", "amount": 9},
    )
    won_coupon(history_app, first)

    for path in (
        "/m/points",
        "/m/purchases",
        "/m/coupons",
        "/m/api/ledgers/points",
        "/m/api/purchases",
    ):
        seen = second.client.get(path, query_string={"memberID": first.id, "openid": "oOne"})
        text = seen.get_data(as_text=True)
        assert "31337" not in text and "ONLY-FIRST" not in text and "AV" not in text, path


@pytest.mark.parametrize(
    ("path", "error"),
    [
        ("/m/api/ledgers/coins", "unknown_ledger"),
        ("/m/api/ledgers/points?before=abc", "invalid_query"),
        ("/m/api/ledgers/points?before=0", "invalid_query"),
        ("/m/api/purchases?before=yesterday", "invalid_query"),
        ("/m/api/purchases?before=12|", "invalid_query"),
    ],
)
def test_bad_queries_are_refused_in_chinese_and_change_nothing(history_app, path, error):
    member = bound_member(history_app, "oBad")
    database = database_of(history_app)
    before = {name: database[name].count_documents({}) for name in database.list_collection_names()}

    answer = member.client.get(path)

    assert answer.status_code in (400, 404) and answer.json["error"] == error
    assert re.search(r"[\u4e00-\u9fff]", answer.json["message"]), answer.json
    after = {name: database[name].count_documents({}) for name in database.list_collection_names()}
    assert after == before


def test_a_page_link_edited_by_hand_shows_the_first_page(history_app):
    member = bound_member(history_app, "oEdited")
    for path in ("/m/points?before=abc", "/m/purchases?before=nonsense", "/m/coupons?status=x"):
        assert member.client.get(path).status_code == 200, path

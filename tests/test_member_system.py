"""The member system through the staff API: ledgers, points, money, transactions, withdrawals."""

import threading

import pytest

from tests import samples
from tests.conftest import STAFF_TOKEN, WeChat
from tests.crm_helpers import Member, Sim
from wxmember.ledger import Entry, InsufficientBalance

AUTH = {"Authorization": f"Bearer {STAFF_TOKEN}"}
MEMBER = 16426780


@pytest.fixture
def staff(app):
    client = app.test_client()

    def call(method, path, body=None):
        response = client.open(path, method=method, json=body, headers=AUTH)
        return response.status_code, response.json

    return call


@pytest.fixture
def system(app):
    return app.extensions["wxmember"].members


def rows(staff, kind, member=MEMBER, **query):
    status, body = staff(
        "GET",
        f"/api/members/{member}/ledgers/{kind}?" + "&".join(f"{k}={v}" for k, v in query.items()),
    )
    assert status == 200, body
    return body["items"]


def rule(staff, rule_id, kind, amount, points, **extra):
    status, body = staff(
        "POST",
        "/api/point-rules",
        {"ruleId": rule_id, "type": kind, "amount": amount, "points": points, **extra},
    )
    assert status == 200, body


def purchase(staff, form_id, amount, **extra):
    return staff(
        "POST",
        "/api/transactions",
        {"formId": form_id, "memberID": MEMBER, "type": "purchase", "amount": amount, **extra},
    )


# -- ledgers -------------------------------------------------------------------------


def test_adjustments_make_rows_with_the_balance_after_each(staff):
    assert (
        staff(
            "POST",
            f"/api/members/{MEMBER}/points",
            {"amount": 100, "reason": "开卡礼", "formId": "A1"},
        )[0]
        == 200
    )
    assert (
        staff(
            "POST",
            f"/api/members/{MEMBER}/points",
            {"amount": -30, "reason": "兑换礼品", "formId": "A2"},
        )[0]
        == 200
    )

    items = rows(staff, "points")

    assert [(r["amount"], r["balance"]) for r in items] == [(-30, 70), (100, 100)]
    assert items[0]["memo"] == "兑换礼品" and items[0]["formId"] == "A2"
    assert items[0]["type"] == "人工调整" and items[0]["operator"] == 0


def test_adjustment_below_zero_is_refused_and_writes_nothing(staff):
    staff("POST", f"/api/members/{MEMBER}/points", {"amount": 10, "reason": "r", "formId": "B1"})
    status, body = staff(
        "POST", f"/api/members/{MEMBER}/points", {"amount": -11, "reason": "r", "formId": "B2"}
    )
    assert (status, body["error"]) == (409, "insufficient_points")
    assert len(rows(staff, "points")) == 1


@pytest.mark.parametrize(
    "body",
    [
        {"amount": 0, "reason": "r", "formId": "x"},
        {"amount": 5, "formId": "x"},
        {"amount": 5, "reason": "r"},
        {"amount": 1.5, "reason": "r", "formId": "x"},
    ],
)
def test_bad_adjustment_is_400(staff, body):
    status, answer = staff("POST", f"/api/members/{MEMBER}/points", body)
    assert status == 400 and answer["ok"] is False


def test_replayed_adjustment_counts_once(staff):
    body = {"amount": 50, "reason": "补偿", "formId": "C1"}
    staff("POST", f"/api/members/{MEMBER}/points", body)
    staff("POST", f"/api/members/{MEMBER}/points", body)
    assert [r["balance"] for r in rows(staff, "points")] == [50]


def test_ledger_pages_newest_first(staff):
    for n in range(7):
        staff(
            "POST", f"/api/members/{MEMBER}/points", {"amount": 1, "reason": "r", "formId": f"P{n}"}
        )
    first = staff("GET", f"/api/members/{MEMBER}/ledgers/points?limit=3")[1]
    second = staff("GET", f"/api/members/{MEMBER}/ledgers/points?limit=3&before={first['next']}")[1]
    assert [r["balance"] for r in first["items"] + second["items"]] == [7, 6, 5, 4, 3, 2]


def test_unknown_ledger_is_404(staff):
    assert staff("GET", f"/api/members/{MEMBER}/ledgers/gold")[0] == 404


def test_member_api_needs_the_staff_token(app):
    response = app.test_client().post("/api/transactions", json={})
    assert response.status_code == 401


# -- transactions and points rules ---------------------------------------------------


def test_purchase_earns_points_by_the_rule_once_per_form_id(staff):
    rule(staff, "01", "consumption", 10, 1)  # 1 point per whole 10 yuan
    first = purchase(staff, "F100", 1234.56)
    again = purchase(staff, "F100", 1234.56)
    assert first[0] == again[0] == 200
    assert first[1]["transaction"]["effects"]["pointsEarned"] == 123
    assert [r["amount"] for r in rows(staff, "points")] == [123]


def test_rule_limited_to_product_ids_counts_only_those_items(staff):
    rule(staff, "01", "consumption", 10, 1, productIds=["SUIT"])
    items = [{"productId": "SUIT", "amount": 800}, {"productId": "TIE", "amount": 200}]
    status, body = purchase(staff, "F101", 1000, items=items)
    assert body["transaction"]["effects"]["pointsEarned"] == 80


def test_rule_for_the_members_grade_wins(staff, system):
    staff("POST", "/api/grades", {"level": 0, "name": "普卡"})
    staff("POST", "/api/grades", {"level": 1, "name": "金卡", "discount": 0.9})
    rule(staff, "01", "consumption", 10, 1)
    rule(staff, "02", "consumption", 10, 2, grade=1)
    system.grades.member(MEMBER)
    database_of_members(system).update_one({"_id": MEMBER}, {"$set": {"GradeID": 1}})
    assert purchase(staff, "F102", 100)[1]["transaction"]["effects"]["pointsEarned"] == 20


def database_of_members(system):
    return system.grades.members


def test_recharge_with_promotion_bonus_as_its_own_row(staff):
    staff(
        "POST",
        "/api/recharge-promotions",
        {"id": "R1", "threshold": 100, "bonus": 30, "name": "充100送30"},
    )
    rule(staff, "02", "recharge", 100, 1)
    status, body = staff(
        "POST",
        "/api/transactions",
        {"formId": "R-1", "memberID": MEMBER, "type": "recharge", "amount": 150},
    )
    assert status == 200 and body["transaction"]["effects"]["bonus"] == 3000
    money = rows(staff, "money")
    assert [(r["type"], r["amount"], r["balance"]) for r in money] == [
        ("充值赠送", 30, 180),
        ("充值", 150, 150),
    ]
    assert rows(staff, "points")[0]["amount"] == 1


def test_refund_reverses_points_earned_and_spent_in_proportion(staff, system):
    rule(staff, "01", "consumption", 1, 1)  # 1 point per yuan
    system.points.adjust(MEMBER, 500, "期初", "OPEN")
    staff(
        "POST",
        "/api/transactions",
        {"formId": "TOPUP", "memberID": MEMBER, "type": "recharge", "amount": 400},
    )
    purchase(staff, "F200", 1000, pointsSpent=200, balancePaid=400)
    assert system.points.balance(MEMBER) == 500 - 200 + 1000

    status, body = staff(
        "POST",
        "/api/transactions",
        {
            "formId": "F200-R1",
            "memberID": MEMBER,
            "type": "refund",
            "amount": 250,
            "refundOf": "F200",
        },
    )
    effects = body["transaction"]["effects"]
    assert status == 200
    assert (effects["pointsReversed"], effects["pointsReturned"]) == (250, 50)
    assert effects["balanceReturned"] == 10000
    assert system.points.balance(MEMBER) == 1300 - 250 + 50
    assert system.ledger.balance("money", MEMBER) == 10000


def test_refunds_cannot_exceed_the_purchase(staff):
    purchase(staff, "F300", 100)
    ok = staff(
        "POST",
        "/api/transactions",
        {
            "formId": "F300-R1",
            "memberID": MEMBER,
            "type": "refund",
            "amount": 60,
            "refundOf": "F300",
        },
    )
    too_much = staff(
        "POST",
        "/api/transactions",
        {
            "formId": "F300-R2",
            "memberID": MEMBER,
            "type": "refund",
            "amount": 41,
            "refundOf": "F300",
        },
    )
    unknown = staff(
        "POST",
        "/api/transactions",
        {"formId": "X-R", "memberID": MEMBER, "type": "refund", "amount": 1, "refundOf": "NOPE"},
    )
    assert ok[0] == 200
    assert (too_much[0], too_much[1]["error"]) == (400, "refund_too_large")
    assert (unknown[0], unknown[1]["error"]) == (404, "unknown_purchase")


def test_purchase_spending_more_points_than_held_records_nothing(staff, system):
    status, body = purchase(staff, "F400", 100, pointsSpent=5)
    assert (status, body["error"]) == (409, "insufficient_points")
    assert database_of_tx(system).count_documents({}) == 0


def database_of_tx(system):
    return system.transactions.collection


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"formId": "x", "memberID": "1", "type": "purchase", "amount": 1},
        {"formId": "x", "memberID": 1, "type": "gift", "amount": 1},
        {"formId": "x", "memberID": 1, "type": "purchase", "amount": -5},
        {"formId": "x", "memberID": 1, "type": "purchase", "amount": 1.234},
        {"formId": "x", "memberID": 1, "type": "refund", "amount": 1},
        {"formId": "x", "memberID": 1, "type": "purchase", "amount": 1, "items": [{"a": 1}]},
    ],
)
def test_bad_transaction_is_400(staff, body):
    status, answer = staff("POST", "/api/transactions", body)
    assert status == 400 and answer["ok"] is False and answer["message"]


# -- money: freeze, earnings, withdrawals ---------------------------------------------


def test_freeze_and_release(staff, system):
    system.money.recharge(MEMBER, 10000, "TOP")
    assert (
        staff("POST", f"/api/members/{MEMBER}/money/freeze", {"amount": 30, "formId": "FZ1"})[0]
        == 200
    )
    assert system.ledger.balances(MEMBER)["money"] == 7000
    assert system.ledger.balances(MEMBER)["frozen"] == 3000
    staff("POST", f"/api/members/{MEMBER}/money/release", {"amount": 30, "formId": "RL1"})
    assert system.ledger.balances(MEMBER)["frozen"] == 0
    status, body = staff(
        "POST", f"/api/members/{MEMBER}/money/freeze", {"amount": 500, "formId": "FZ2"}
    )
    assert (status, body["error"]) == (409, "insufficient_money")


def test_withdrawal_moves_money_only_on_approval_and_once(app, staff, system):
    sim = Sim(app)
    card = sim.a_member()
    member = Member(app, "oEarner", sim)
    member.bind(card["MOBILE_TELEPHONE_NO"])
    member_id = card["MEMBER_ID"]
    staff(
        "POST",
        f"/api/members/{member_id}/earnings",
        {"amount": 100, "formId": "E1", "summary": "推荐奖励"},
    )

    applied = member.client.post("/m/api/withdrawals", json={"amount": 60})
    too_much = member.client.post("/m/api/withdrawals", json={"amount": 101})
    assert applied.status_code == 200 and too_much.json["error"] == "insufficient_earnings"
    assert system.ledger.balance("earnings", member_id) == 10000  # nothing moved yet

    withdrawal_id = applied.json["withdrawal"]["id"]
    first = staff("POST", f"/api/withdrawals/{withdrawal_id}/approve", {"memo": "已打款"})
    second = staff("POST", f"/api/withdrawals/{withdrawal_id}/approve")
    assert first[0] == 200 and first[1]["withdrawal"]["Status"] == 1
    assert (second[0], second[1]["error"]) == (409, "not_pending")
    assert system.ledger.balance("earnings", member_id) == 4000
    assert [r["amount"] for r in rows(staff, "earnings", member_id)] == [-60, 100]


def test_rejected_withdrawal_moves_nothing(staff, system):
    system.money.earn(MEMBER, 5000, "E2", "返佣")
    doc = system.withdrawals.apply(MEMBER, 5000)
    status, body = staff("POST", f"/api/withdrawals/{doc['_id']}/reject", {"memo": "信息不全"})
    assert status == 200 and body["withdrawal"]["Status"] == 2
    assert system.ledger.balance("earnings", MEMBER) == 5000


# -- concurrency, crashes, audit -------------------------------------------------------


@pytest.mark.mongo  # races need a real server; mongomock is not atomic
def test_500_concurrent_spends_never_go_below_zero(system):
    system.points.adjust(MEMBER, 250, "期初", "SEED")
    outcomes = []
    barrier = threading.Barrier(50)

    def spend(n):
        if n < 50:
            barrier.wait()
        try:
            system.points.spend(MEMBER, 1, Entry(f"S{n}", "摇一摇", "抽奖消耗"), f"spend-{n}")
            outcomes.append("ok")
        except InsufficientBalance:
            outcomes.append("refused")

    threads = [threading.Thread(target=spend, args=(n,)) for n in range(500)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert outcomes.count("ok") == 250 and outcomes.count("refused") == 250
    assert system.points.balance(MEMBER) == 0
    balances = [r["Balance"] for r in system.ledger.rows("points", MEMBER, limit=1000)]
    assert min(balances) == 0 and len(balances) == 251
    assert system.ledger.audit() == []


def test_crash_between_balance_and_row_is_repaired_not_doubled(system, monkeypatch):
    ledger = system.ledger
    ledger.post("points", MEMBER, 100, Entry("C0", "t", "s"), "c0")

    def killed_before_the_row(*args, **kwargs):
        raise SystemError("process killed")

    rows_collection = type(ledger.database["member/integral"])
    monkeypatch.setattr(rows_collection, "insert_one", killed_before_the_row, raising=False)
    with pytest.raises(SystemError):
        ledger.post("points", MEMBER, -40, Entry("C1", "t", "s"), "c1")
    monkeypatch.undo()

    assert ledger.balance("points", MEMBER) == 60  # the account moved...
    [difference] = ledger.audit()  # ...the row is missing: the audit sees it
    assert difference["account"] == 60 and difference["rows"] == 100

    again = ledger.post("points", MEMBER, -40, Entry("C1", "t", "s"), "c1")  # the retry
    assert again["Balance"] == 60 and ledger.balance("points", MEMBER) == 60  # not doubled
    assert ledger.audit() == []


def test_repair_writes_what_a_crash_left(system, monkeypatch):
    ledger = system.ledger
    ledger.post("money", MEMBER, 500, Entry("M0", "t", "s"), "m0")
    monkeypatch.setattr(ledger, "_write_row", lambda *a: None)
    ledger.post("money", MEMBER, 200, Entry("M1", "t", "s"), "m1")
    monkeypatch.undo()
    assert len(ledger.audit()) == 1
    assert ledger.repair() == 1
    assert ledger.audit() == []
    assert [r["Balance"] for r in ledger.rows("money", MEMBER)] == [700, 500]


def test_audit_cli(app, runner):
    from wxmember.cli import cli

    app.extensions["wxmember"].members.points.adjust(MEMBER, 5, "r", "AU1")
    result = runner.invoke(cli, ["audit"], obj={})
    assert result.exit_code == 0 and "0 differences" in result.output


# -- what the member sees ----------------------------------------------------------------


def test_bound_member_asking_for_points_gets_the_figures(app, system):
    sim = Sim(app)
    card = sim.a_member()
    Member(app, "oUser0001", sim).bind(card["MOBILE_TELEPHONE_NO"])
    app.extensions["wxmember"].background.shutdown()  # the CRM's opening row is in
    opening = system.ledger.row("points", f"opening:{card['MEMBER_ID']}")["Integral"]
    system.points.adjust(card["MEMBER_ID"], 321, "r", "V1")
    system.money.recharge(card["MEMBER_ID"], 5050, "V2")

    reply = WeChat(app.test_client()).post(samples.fill(samples.TEXT, content="积分"))

    text = WeChat(None).reply(reply)["Content"]
    assert f"当前积分：{opening + 321}" in text and "账户余额：¥50.50" in text
    assert card["MEM_CARD_NO"] in text


def test_unbound_follower_asking_for_points_gets_the_keyword_reply(app):
    reply = WeChat(app.test_client()).post(samples.fill(samples.TEXT, content="积分"))
    assert WeChat(None).reply(reply)["Content"] == "请先绑定会员卡。"


def test_bound_member_asking_by_text_and_menu_is_counted_once_each(app):
    sim = Sim(app)
    card = sim.a_member()
    Member(app, "oUser0001", sim).bind(card["MOBILE_TELEPHONE_NO"])
    wechat = WeChat(app.test_client())
    customers = app.extensions["wxmember"].database["welab/customers"]
    before = customers.find_one({"wechatid": "oUser0001"}).get("messageCount", 0)

    by_text = wechat.post(samples.fill(samples.TEXT, content="余额", msgid="71"))
    by_menu = wechat.post(samples.fill(samples.CLICK, key="积分", time=1700000001))

    for reply in (by_text, by_menu):
        assert card["MEM_CARD_NO"] in WeChat(None).reply(reply)["Content"]
    assert customers.find_one({"wechatid": "oUser0001"})["messageCount"] == before + 1


def test_unbound_follower_asking_for_points_is_counted_once(app):
    wechat = WeChat(app.test_client())
    wechat.post(samples.fill(samples.SUBSCRIBE))
    wechat.post(samples.fill(samples.TEXT, content="积分", time=1700000001))
    wechat.post(samples.fill(samples.CLICK, key="积分", time=1700000002))
    customer = app.extensions["wxmember"].database["welab/customers"].find_one()
    assert customer["messageCount"] == 1 and customer["isFollow"] is True


def test_opening_row_from_crm_points(app, system):
    crm_points = app.extensions["wxmember"].crm.points(MEMBER)
    row = system.points.open_from_crm(MEMBER)
    assert row["Integral"] == crm_points and row["Type"] == "期初"
    assert system.points.open_from_crm(MEMBER) is None


# -- the scheduled jobs of the member system -------------------------------------------


def test_transaction_pull_applies_crm_transactions_once(app, system):
    from jobs.runner import run_job

    sim = Sim(app)
    state = app.extensions["wxmember"].crm_simulator.app.extensions["crm_state"]
    system.points.rules.save({"ruleId": "01", "type": "consumption", "amount": 10, "points": 1})
    state.add_transaction(MEMBER, "01", 500, form_id="POS-1")
    state.add_transaction(MEMBER, "02", 100, form_id="POS-2")
    state.add_transaction(MEMBER, "03", 200, form_id="POS-3", refund_of="POS-1")
    state.add_transaction(MEMBER, "09", 1, form_id="POS-BAD")

    run = run_job(app.extensions["wxmember"], "transactions")

    assert run["counts"] == {"transactions": 4, "applied": 3, "refused": 1, "pages": 1}
    crm_points = app.extensions["wxmember"].crm.points(MEMBER)
    assert system.points.balance(MEMBER) == crm_points + 50 - 20  # opening, earned, reversed
    assert system.ledger.balance("money", MEMBER) == 10000
    assert run_job(app.extensions["wxmember"], "transactions")["counts"]["transactions"] == 0
    del sim


def test_expiry_job_follows_the_configured_policy(make_app):
    from jobs.runner import run_job

    app = make_app(member={"points_expiry": "days:1"})
    system = app.extensions["wxmember"].members
    system.points.earn(MEMBER, 40, Entry("OLD", "t", "s"), "old")
    system.ledger.database["member/integral"].update_one(
        {"_id": "old"}, {"$set": {"CreateDate": 0}}
    )
    run = run_job(app.extensions["wxmember"], "expiry")
    assert run["counts"] == {"members": 1, "expired": 40}
    assert system.points.balance(MEMBER) == 0


@pytest.mark.parametrize(
    "body",
    [
        {"type": "purchase", "amount": 88},
        {"type": "recharge", "amount": 200},
        {"type": "refund", "amount": 10, "refundOf": "BASE"},
    ],
    ids=["purchase", "recharge", "refund"],
)
def test_every_transaction_type_replayed_counts_once(staff, system, body):
    rule(staff, "01", "consumption", 1, 1)
    rule(staff, "02", "recharge", 1, 1)
    purchase(staff, "BASE", 100)
    before = system.ledger.balances(MEMBER)
    tx = {"formId": "REPLAY", "memberID": MEMBER, **body}
    first = staff("POST", "/api/transactions", tx)
    after_first = system.ledger.balances(MEMBER)
    replays = [staff("POST", "/api/transactions", tx) for _ in range(3)]
    assert first[0] == 200 and all(status == 200 for status, _ in replays)
    assert after_first != before
    assert system.ledger.balances(MEMBER) == after_first
    assert all(
        r[1]["transaction"]["effects"] == first[1]["transaction"]["effects"] for r in replays
    )


def test_binding_opens_the_points_ledger_from_the_crm(app, system):
    sim = Sim(app)
    card = sim.a_member()
    Member(app, "oOpening", sim).bind(card["MOBILE_TELEPHONE_NO"])
    app.extensions["wxmember"].background.shutdown()
    crm_points = app.extensions["wxmember"].crm.points(card["MEMBER_ID"])
    [row] = system.ledger.rows("points", card["MEMBER_ID"])
    assert (row["Type"], row["Integral"], row["Balance"]) == ("期初", crm_points, crm_points)

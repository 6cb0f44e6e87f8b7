"""The member system through the staff API: ledgers, points, money, transactions, withdrawals."""

import json
import threading

import pytest

from tests import samples
from tests.conftest import STAFF_TOKEN, WeChat, database_of
from tests.crm_helpers import Member, Sim
from wxmember.members.ledger import KINDS, Entry, InsufficientBalance, Ledger
from wxmember.members.money import WithdrawalRefused

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


@pytest.fixture
def known(app):
    """MEMBER bound on WeChat, so the platform knows the member id."""
    database_of(app)["welab/customers"].insert_one(
        {"wechatid": "oKnown", "isRegister": True, "HaiLanMemberInfo": {"memberID": MEMBER}}
    )
    return MEMBER


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


def test_deeply_nested_json_is_a_400_not_a_500(app):
    body = "[" * 100_000 + "]" * 100_000
    for path in ("/api/transactions", "/api/activities", "/api/grades", "/api/point-rules"):
        response = app.test_client().post(
            path, data=body, content_type="application/json", headers=AUTH
        )
        assert response.status_code == 400, path


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/api/members/999", None),
        ("POST", "/api/members/999/points", {"amount": 5, "reason": "r", "formId": "U1"}),
        ("GET", "/api/members/999/ledgers/points", None),
        ("POST", "/api/members/999/money/freeze", {"amount": 1, "formId": "U2"}),
        ("POST", "/api/members/999/earnings", {"amount": 1, "formId": "U3"}),
        ("GET", f"/api/members/{2**64}", None),
    ],
)
def test_a_member_the_platform_does_not_know_is_404_and_gets_nothing(
    app, staff, method, path, body
):
    status, answer = staff(method, path, body)
    assert (status, answer["error"]) == (404, "unknown_member")
    assert database_of(app)["member/accounts"].count_documents({}) == 0


@pytest.mark.parametrize("amount", [2**63, -(2**63), 10**9 + 1, 1.5, "5", 0])
def test_an_adjustment_out_of_bounds_is_refused_before_any_write(app, staff, known, amount):
    status, answer = staff(
        "POST", f"/api/members/{MEMBER}/points", {"amount": amount, "reason": "r", "formId": "B1"}
    )
    assert (status, answer["error"]) == (400, "invalid_points")
    assert database_of(app)["member/accounts"].count_documents({}) == 0


def test_adjustments_make_rows_with_the_balance_after_each(staff, known):
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


def test_adjustment_below_zero_is_refused_and_writes_nothing(staff, known):
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


def test_replayed_adjustment_counts_once(staff, known):
    body = {"amount": 50, "reason": "补偿", "formId": "C1"}
    staff("POST", f"/api/members/{MEMBER}/points", body)
    staff("POST", f"/api/members/{MEMBER}/points", body)
    assert [r["balance"] for r in rows(staff, "points")] == [50]


def test_ledger_pages_newest_first(staff, known):
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


def json_dumps(body):
    """JSON as a careless client writes it: NaN and Infinity included."""
    return json.dumps(body, allow_nan=True)


def refund(client, form_id, amount, refund_of):
    body = {"formId": form_id, "memberID": MEMBER, "type": "refund", "amount": amount}
    response = client.post("/api/transactions", json={**body, "refundOf": refund_of}, headers=AUTH)
    return response.status_code, response.json


@pytest.mark.mongo  # a race: mongomock is not atomic
def test_concurrent_refunds_never_add_up_to_more_than_the_purchase(app, staff, system):
    rule(staff, "R1", "consumption", 1, 1)
    assert purchase(staff, "F500", 40)[0] == 200
    barrier = threading.Barrier(8)
    outcomes = []

    def one_refund(n):
        client = app.test_client()
        barrier.wait()
        outcomes.append(refund(client, f"F500-R{n}", 10, "F500"))

    threads = [threading.Thread(target=one_refund, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    statuses = sorted(status for status, _ in outcomes)
    assert statuses == [200] * 4 + [400] * 4
    assert system.points.balance(MEMBER) == 0  # 40 earned, 4 × 10 reversed
    assert system.ledger.audit() == []


@pytest.mark.parametrize("refund_of", [{"$in": ["F600"]}, {"$ne": None}, ["F600"], 600, ""])
def test_refund_of_must_be_a_form_id_never_an_operator(app, staff, refund_of):
    assert purchase(staff, "F600", 10)[0] == 200
    for n in range(3):
        status, body = refund(app.test_client(), f"F600-X{n}", 10, refund_of)
        assert (status, body["error"]) == (400, "invalid_refund")
    assert refund(app.test_client(), "F600-R", 10, "F600")[0] == 200  # the real one still can


@pytest.mark.parametrize(
    ("amount", "error"),
    [
        (float("nan"), "invalid_body"),  # not JSON at all
        (float("inf"), "invalid_body"),
        (1e308, "invalid_amount"),
        (2**63, "invalid_amount"),
        (-1, "invalid_amount"),
    ],
)
def test_amounts_out_of_range_are_refused_before_anything_is_written(app, staff, amount, error):
    client = app.test_client()
    body = {"formId": "F700", "memberID": MEMBER, "type": "purchase", "amount": amount}
    response = client.post(
        "/api/transactions",
        data=json_dumps(body),
        content_type="application/json",
        headers=AUTH,
    )
    assert response.status_code == 400 and response.json["error"] == error
    assert database_of_tx(app.extensions["wxmember"].members).count_documents({}) == 0


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


def test_a_withdrawal_reserves_its_amount_at_application_and_is_decided_once(app, staff, system):
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
    too_much = member.client.post("/m/api/withdrawals", json={"amount": 41})
    assert applied.status_code == 200 and too_much.json["error"] == "insufficient_earnings"
    assert system.ledger.balance("earnings", member_id) == 4000  # 60 reserved

    withdrawal_id = applied.json["withdrawal"]["id"]
    first = staff("POST", f"/api/withdrawals/{withdrawal_id}/approve", {"memo": "已打款"})
    second = staff("POST", f"/api/withdrawals/{withdrawal_id}/approve")
    rejected = staff("POST", f"/api/withdrawals/{withdrawal_id}/reject")
    assert first[0] == 200 and first[1]["withdrawal"]["Status"] == 1
    assert (second[0], second[1]["error"]) == (409, "not_pending")
    assert (rejected[0], rejected[1]["error"]) == (409, "not_pending")
    assert system.ledger.balance("earnings", member_id) == 4000
    assert [r["amount"] for r in rows(staff, "earnings", member_id)] == [-60, 100]


def test_a_rejected_withdrawal_gives_the_amount_back(staff, system):
    system.money.earn(MEMBER, 5000, "E2", "返佣")
    doc = system.withdrawals.apply(MEMBER, 5000)
    assert system.ledger.balance("earnings", MEMBER) == 0
    status, body = staff("POST", f"/api/withdrawals/{doc['_id']}/reject", {"memo": "信息不全"})
    assert status == 200 and body["withdrawal"]["Status"] == 2
    assert system.ledger.balance("earnings", MEMBER) == 5000
    assert staff("POST", f"/api/withdrawals/{doc['_id']}/reject")[0] == 409  # once
    assert system.ledger.balance("earnings", MEMBER) == 5000 and system.ledger.audit() == []


@pytest.mark.mongo  # a race: mongomock is not atomic
def test_concurrent_applications_never_reserve_more_than_the_earnings(system):
    system.money.earn(MEMBER, 1000, "E3", "返佣")
    barrier = threading.Barrier(5)
    outcomes = []

    def apply():
        barrier.wait()
        try:
            system.withdrawals.apply(MEMBER, 1000)
            outcomes.append("applied")
        except WithdrawalRefused:
            outcomes.append("refused")

    threads = [threading.Thread(target=apply) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes) == ["applied"] + ["refused"] * 4
    assert system.ledger.balance("earnings", MEMBER) == 0 and system.ledger.audit() == []


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


class _RowsLost:
    """A database whose ``collection`` loses its inserts: the process dies before the row."""

    def __init__(self, database, collection):
        self.database, self.collection = database, collection

    def __getitem__(self, name):
        real = self.database[name]
        return _KilledBeforeInsert(real) if name == self.collection else real


class _KilledBeforeInsert:
    def __init__(self, collection):
        self.collection = collection

    def insert_one(self, *args, **kwargs):
        raise SystemError("process killed before the row")

    def __getattr__(self, name):
        return getattr(self.collection, name)


def crash_before_the_row(ledger, kind, member_id, amount, entry, key):
    """Post through a ledger built on the same database (its public constructor) whose row
    insert dies: the account has moved, the row is missing, as after a crash in between."""
    dying = Ledger(_RowsLost(ledger.database, KINDS[kind].collection))
    with pytest.raises(SystemError):
        dying.post(kind, member_id, amount, entry, key)
    assert ledger.row(kind, key) is None


def test_crash_between_balance_and_row_is_repaired_not_doubled(system):
    ledger = system.ledger
    ledger.post("points", MEMBER, 100, Entry("C0", "t", "s"), "c0")
    crash_before_the_row(ledger, "points", MEMBER, -40, Entry("C1", "t", "s"), "c1")

    assert ledger.balance("points", MEMBER) == 60  # the account moved...
    [difference] = ledger.audit()  # ...the row is missing: the audit sees it
    assert difference["account"] == 60 and difference["rows"] == 100

    again = ledger.post("points", MEMBER, -40, Entry("C1", "t", "s"), "c1")  # the retry
    assert again["Balance"] == 60 and ledger.balance("points", MEMBER) == 60  # not doubled
    assert ledger.audit() == []


def test_repair_writes_what_a_crash_left(system):
    ledger = system.ledger
    ledger.post("money", MEMBER, 500, Entry("M0", "t", "s"), "m0")
    crash_before_the_row(ledger, "money", MEMBER, 200, Entry("M1", "t", "s"), "m1")
    [difference] = ledger.audit()
    assert (difference["account"], difference["rows"]) == (700, 500)
    assert ledger.repair() == 1
    assert ledger.audit() == []
    assert [r["Balance"] for r in ledger.rows("money", MEMBER)] == [700, 500]


@pytest.mark.mongo  # the command's own process reads the app's database
def test_audit_cli_finds_a_balance_its_rows_do_not_add_up_to(app, runner, tmp_path):
    from tests.conftest import write_config
    from wxmember.cli import cli

    config = str(write_config(tmp_path))
    app.extensions["wxmember"].members.points.adjust(MEMBER, 5, "r", "AU1")
    clean = runner.invoke(cli, ["--config", config, "audit"], obj={})
    assert clean.exit_code == 0 and "0 differences" in clean.output

    database_of(app)["member/accounts"].update_one({"_id": MEMBER}, {"$inc": {"points.balance": 7}})
    broken = runner.invoke(cli, ["--config", config, "audit"], obj={})
    assert broken.exit_code == 1 and "1 differences" in broken.output
    assert f'"memberID": {MEMBER}' in broken.output


@pytest.mark.mongo  # the command opens its own client: the data must be in a shared database
def test_audit_cli_repair_writes_the_row_a_crash_left(app, runner, tmp_path):
    from wxmember.cli import cli

    ledger = app.extensions["wxmember"].members.ledger
    ledger.post("money", MEMBER, 500, Entry("AU0", "t", "s"), "au0")
    crash_before_the_row(ledger, "money", MEMBER, 200, Entry("AU1", "t", "s"), "au1")
    config = ["--config", str(tmp_path / "config.yaml")]  # the test's database, not var/db

    result = runner.invoke(cli, [*config, "audit"], obj={})
    assert result.exit_code == 1 and "1 differences" in result.output
    result = runner.invoke(cli, [*config, "audit", "--repair"], obj={})
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

"""The staff API with staff accounts' own tokens: roles, the author of each change, the audit."""

import pytest

from tests.conftest import STAFF_TOKEN, database_of
from tests.console_helpers import MEMBER, add_staff, bind_member

MACHINE = {"Authorization": f"Bearer {STAFF_TOKEN}"}


@pytest.fixture
def token_of(app):
    staff = app.extensions["wxmember"].staff

    def issue(username, role):
        account = add_staff(app, username, role)
        return account, {"Authorization": f"Bearer {staff.tokens.issue(username)}"}

    return issue


@pytest.fixture
def member(app):
    return bind_member(app)


def _adjust(client, headers, amount=50, form="F1"):
    body = {"amount": amount, "reason": "客诉补偿", "formId": form}
    return client.post(f"/api/members/{MEMBER}/points", json=body, headers=headers)


def _audit(app):
    return list(database_of(app)["wxmember/audit"].find({"via": "api"}).sort("time", 1))


def test_an_operator_token_adjusts_points_as_its_account(app, client, token_of, member):
    account, headers = token_of("olivia", "operator")
    answer = _adjust(client, headers)
    assert answer.status_code == 200, answer.json
    assert answer.json["row"]["operator"] == account["userId"] != 0
    row = database_of(app)["member/integral"].find_one()
    assert row["CreateUser"] == account["userId"]
    [audit] = _audit(app)
    assert (audit["who"], audit["role"], audit["userId"]) == (
        "olivia",
        "operator",
        account["userId"],
    )
    assert audit["action"] == "api.member_api.adjust_points"
    assert audit["target"] == f"/api/members/{MEMBER}/points"
    assert '"amount": 50' in audit["details"]["body"]


def test_a_viewer_token_reads_but_any_change_is_403_and_changes_nothing(
    app, client, token_of, member
):
    _, headers = token_of("victor", "viewer")
    assert client.get("/api/logs", headers=headers).status_code == 200
    assert client.get(f"/api/members/{MEMBER}", headers=headers).status_code == 200
    refused = _adjust(client, headers)
    assert refused.status_code == 403
    assert refused.json["error"] == "forbidden"
    assert "只读" in refused.json["message"]
    activity = {"name": "x", "start": 0, "end": 1, "points": 1, "prizes": []}
    assert client.post("/api/activities", json=activity, headers=headers).status_code == 403
    assert client.post("/api/jobs/grades", headers=headers).status_code == 403
    database = database_of(app)
    assert database["member/integral"].count_documents({}) == 0
    assert database["shake/activities"].count_documents({}) == 0
    assert _audit(app) == []


def test_rules_need_an_admin_token(app, client, token_of):
    _, operator = token_of("olivia", "operator")
    _, admin = token_of("adam", "admin")
    grade = {"level": 1, "name": "普通会员", "discount": 1}
    assert client.post("/api/grades", json=grade, headers=operator).status_code == 403
    assert client.post("/api/grades", json=grade, headers=admin).status_code == 200
    assert [row["who"] for row in _audit(app)] == ["adam"]


def test_the_shared_token_is_the_machine_and_is_audited_as_api_token(app, client, member):
    assert _adjust(client, MACHINE).status_code == 200
    [audit] = _audit(app)
    assert (audit["who"], audit["userId"]) == ("api-token", 0)
    assert database_of(app)["member/integral"].find_one()["CreateUser"] == 0


def test_a_refused_change_is_not_audited(app, client, token_of, member):
    _, headers = token_of("olivia", "operator")
    assert _adjust(client, headers, amount=-(10**6)).status_code == 409  # below zero
    assert _audit(app) == []


def test_a_disabled_accounts_token_stops_working(app, client, token_of):
    _, headers = token_of("olivia", "operator")
    assert client.get("/api/logs", headers=headers).status_code == 200
    from wxmember.staff.actor import cli_actor

    app.extensions["wxmember"].staff.disable("olivia", cli_actor())
    answer = client.get("/api/logs", headers=headers)
    assert (answer.status_code, answer.json["error"]) == (401, "unauthorized")


def test_staff_tokens_work_when_no_shared_token_is_configured(make_app):
    app = make_app(console={"api_token": ""})
    add_staff(app, "olivia", "operator")
    token = app.extensions["wxmember"].staff.tokens.issue("olivia")
    client = app.test_client()
    assert client.get("/api/logs", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert client.get("/api/logs", headers={"Authorization": "Bearer "}).status_code == 401


def test_a_withdrawal_decision_records_the_deciding_account(app, client, token_of, member):
    account, headers = token_of("olivia", "operator")
    system = app.extensions["wxmember"].members
    system.money.earn(MEMBER, 5000, "E1", "佣金")
    withdrawal = system.withdrawals.apply(MEMBER, 3000)
    answer = client.post(f"/api/withdrawals/{withdrawal['_id']}/reject", headers=headers)
    assert answer.status_code == 200, answer.json
    assert answer.json["withdrawal"]["VerifyID"] == account["userId"]
    returned = database_of(app)["member/refund"].find_one({"Type": "提现退回"})
    assert returned["CreateUser"] == account["userId"]


def test_a_viewer_token_reads_mobiles_and_card_numbers_masked(app, client, token_of, member):
    _, viewer = token_of("victor", "viewer")
    app.extensions["wxmember"].records.logs.append(
        "oMember", "bind", {"memberCardNumber": "V0016426780", "memberID": MEMBER}
    )
    customer = client.get("/api/customers/oMember", headers=viewer).json
    assert customer["mobile"] == "139****0000"
    assert customer["HaiLanMemberInfo"]["memberCardNumber"] == "V00****6780"
    [record] = client.get("/api/logs?wxid=oMember", headers=viewer).json["items"]
    assert record["data"]["memberCardNumber"] == "V00****6780"
    _, operator = token_of("olivia", "operator")
    assert client.get("/api/customers/oMember", headers=operator).json["mobile"] == "13912340000"


def test_removing_a_rule_or_switching_a_promotion_off_takes_an_admin(app, client, token_of):
    _, operator = token_of("olivia", "operator")
    _, admin = token_of("adam", "admin")
    rule = {"ruleId": "BASE-1", "type": "consumption", "amount": 10, "points": 1}
    client.post("/api/point-rules", json=rule, headers=MACHINE)
    promotion = {"id": "R100", "name": "充100送30", "threshold": 100, "bonus": 30}
    client.post("/api/recharge-promotions", json=promotion, headers=MACHINE)

    assert client.delete("/api/point-rules/BASE-1", headers=operator).status_code == 403
    off = {"active": False}
    path = "/api/recharge-promotions/R100/active"
    assert client.post(path, json=off, headers=operator).status_code == 403
    assert client.post(path, json={"active": "no"}, headers=admin).status_code == 400

    assert (
        client.delete("/api/point-rules/BASE-1", headers=admin).json["rule"]["ruleId"] == "BASE-1"
    )
    assert client.delete("/api/point-rules/BASE-1", headers=admin).status_code == 404
    assert client.post(path, json=off, headers=admin).json["promotion"]["active"] is False
    assert client.get("/api/point-rules", headers=admin).json["items"] == []
    actions = [row["action"] for row in _audit(app)]
    assert "api.member_api.delete_point_rule" in actions
    assert "api.member_api.set_recharge_promotion_active" in actions

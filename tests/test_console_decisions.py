"""Console drift and withdrawals: operators mark drift handled with a note and decide each
withdrawal once (the ledger rows carry their userId, the audit names them); viewers read,
masked, and their POSTs are 403 and change nothing."""

import re

import pytest

from tests.conftest import database_of
from tests.console_audit import audit_actions
from tests.console_helpers import MEMBER
from tests.console_seed import seed_drift, seed_withdrawals

OPEN_ID = f"member_missing|oMember|{MEMBER}"


@pytest.fixture
def drift(app):
    seed_drift(app)
    return app.extensions["wxmember"].drift


def _resolve(console, drift_id=OPEN_ID, note="已联系会员，CRM 中已补登"):
    return console.post(
        "/console/drift/resolve", {"id": drift_id, "note": note}, page="/console/drift"
    )


def test_open_drift_is_listed_first_and_every_state_on_demand(drift, viewer):
    html = viewer.get("/console/drift").get_data(as_text=True)
    assert "CRM 中找不到该会员" in html and "CRM 中该会员绑定了另一个微信" in html
    assert "CRM 中卡号或卡类型已变" not in html  # repaired: not open
    assert "139****0000" in html and "13912340000" not in html  # the viewer sees it masked
    everything = viewer.get("/console/drift?state=all").get_data(as_text=True)
    assert "CRM 中卡号或卡类型已变" in everything and "已自动修复" in everything
    assert 'name="note"' not in html and "立即对账" not in html  # no forms for viewers


def test_an_operator_marks_drift_handled_with_a_note(app, drift, operator):
    answer = _resolve(operator)
    assert answer.headers["Location"] == "/console/drift?done=resolved"
    item = drift.get(OPEN_ID)
    assert (item["state"], item["resolvedBy"], item["note"]) == (
        "resolved",
        "olivia",
        "已联系会员，CRM 中已补登",
    )
    assert audit_actions(app) == ["drift.resolve"]
    html = operator.get("/console/drift?state=resolved").get_data(as_text=True)
    assert "olivia：已联系会员，CRM 中已补登" in html
    again = _resolve(operator)
    assert again.status_code == 409 and "该差异不存在或已处理" in again.get_data(as_text=True)
    assert audit_actions(app) == ["drift.resolve"]


def test_a_note_is_required_and_a_viewer_may_not_resolve(app, drift, operator, viewer):
    empty = _resolve(operator, note=" ")
    assert empty.status_code == 400 and "请填写处理说明" in empty.get_data(as_text=True)
    assert _resolve(viewer).status_code == 403
    assert drift.get(OPEN_ID)["state"] == "open"
    assert audit_actions(app) == []


def test_a_long_queue_of_drift_is_paged_with_none_lost(app, viewer):
    drift = app.extensions["wxmember"].drift
    for n in range(105):  # after a CRM outage, say
        drift.record("member_missing", f"o{n}", 20_000_000 + n, {})
    first = viewer.get("/console/drift").get_data(as_text=True)
    second = viewer.get("/console/drift?state=open&page=2").get_data(as_text=True)
    shown = re.findall(r"\b(200000\d\d|2000010\d)\b", first + second)
    assert len(set(shown)) == 105 and 'id="next-page"' in first and "第 2 页" in second
    assert 'id="next-page"' not in second


@pytest.fixture
def applications(app):
    return seed_withdrawals(app)


def _decide(console, doc, decision, memo=""):
    return console.post(
        f"/console/withdrawals/{doc['_id']}/{decision}", {"memo": memo}, page="/console/withdrawals"
    )


def test_pending_withdrawals_are_listed_and_viewers_see_bank_numbers_masked(
    applications,
    viewer,
):
    html = viewer.get("/console/withdrawals").get_data(as_text=True)
    assert "100.00" in html and "80.50" in html and "待审核" in html
    assert "622*********6789" in html and "6225880123456789" not in html
    assert 'class="primary approve"' not in html


def test_an_operator_approves_once_as_themselves(app, applications, operator):
    first, _ = applications
    answer = _decide(operator, first, "approve")
    assert answer.headers["Location"] == "/console/withdrawals?done=approve"
    doc = database_of(app)["member/refund_cash"].find_one({"_id": first["_id"]})
    assert (doc["Status"], doc["VerifyID"]) == (1, operator.account["userId"])
    again = _decide(operator, first, "approve")
    assert again.status_code == 409 and "该提现申请不存在或已处理" in again.get_data(as_text=True)
    assert audit_actions(app) == ["withdrawal.approve"]
    row = app.extensions["wxmember"].staff.audit.collection.find_one(
        {"action": "withdrawal.approve"}
    )
    assert (row["who"], row["details"]["amount"], row["details"]["memberID"]) == (
        "olivia",
        10_000,
        MEMBER,
    )
    html = operator.get("/console/withdrawals?status=1").get_data(as_text=True)
    assert "已通过" in html and "olivia" in html


def test_a_rejection_needs_a_reason_and_gives_the_money_back(app, applications, operator):
    _, second = applications
    ledger = app.extensions["wxmember"].members.ledger
    before = ledger.balances(MEMBER)["earnings"]
    refused = _decide(operator, second, "reject")
    assert refused.status_code == 400 and "请填写拒绝原因" in refused.get_data(as_text=True)
    assert ledger.balances(MEMBER)["earnings"] == before
    assert _decide(operator, second, "reject", "账户信息不全").status_code == 302
    assert ledger.balances(MEMBER)["earnings"] == before + 8_050
    returned = database_of(app)["member/refund"].find_one({"Type": "提现退回"})
    assert (
        returned["CreateUser"] == operator.account["userId"] and returned["Memo"] == "账户信息不全"
    )
    assert audit_actions(app) == ["withdrawal.reject"]


def test_a_viewer_may_not_decide_and_a_bad_id_is_404(app, applications, viewer, operator):
    first, _ = applications
    assert _decide(viewer, first, "approve").status_code == 403
    assert _decide(viewer, first, "reject", "不行").status_code == 403
    statuses = [d["Status"] for d in database_of(app)["member/refund_cash"].find()]
    assert statuses == [0, 0]
    assert audit_actions(app) == []
    assert (
        operator.post("/console/withdrawals/nope/approve", page="/console/withdrawals").status_code
        == 404
    )

"""The CRM client against the simulator over real HTTP on loopback."""

import logging

import pytest
import requests

from wxmember.crm import CRMClient, CRMProtocolError, CRMRejected, CRMUnavailable
from wxmember.crm.simulator import create_simulator
from wxmember.httpserver import BackgroundServer


@pytest.fixture
def simulator():
    server = BackgroundServer(create_simulator(members=30, api_key="crm-key")).start()
    yield server
    server.stop()


@pytest.fixture
def crm(simulator):
    return CRMClient(simulator.url, "crm-key", timeout_s=1, retries=2, backoff_s=0.01)


def members(simulator):
    return requests.get(f"{simulator.url}/sim/members", timeout=5).json()


def faults(simulator, **knobs):
    requests.post(f"{simulator.url}/sim/faults", json=knobs, timeout=5)


def test_seeded_members_have_all_three_card_types(simulator):
    levels = {member["LEVEL"] for member in members(simulator)}
    assert levels == {"01", "02", "03"}


def test_check_and_bind_an_existing_card(simulator, crm):
    member = next(m for m in members(simulator) if m["MOBILE_CHECKED"])
    check = crm.check_mobile(member["MOBILE_TELEPHONE_NO"])
    assert check["exists"] and check["MEMBER_ID"] == member["MEMBER_ID"]

    bound = crm.bind_card("oA", member["MOBILE_TELEPHONE_NO"], idempotency_key="k1")

    assert bound["MEM_CARD_NO"] == member["MEM_CARD_NO"]
    assert crm.member(member["MEMBER_ID"])["WX_OPENID"] == "oA"


def test_unverified_mobile_needs_the_card_number(simulator, crm):
    member = next(m for m in members(simulator) if not m["MOBILE_CHECKED"])
    with pytest.raises(CRMRejected) as refused:
        crm.bind_card("oB", member["MOBILE_TELEPHONE_NO"])
    assert refused.value.code == "card_required" and "卡号" in refused.value.message
    bound = crm.bind_card("oB", member["MOBILE_TELEPHONE_NO"], card_number=member["MEM_CARD_NO"])
    assert bound["MEMBER_ID"] == member["MEMBER_ID"]


def test_repeated_idempotency_key_changes_nothing_again(simulator, crm):
    first = crm.open_card("oNew", "测试", "13900000001", idempotency_key="apply-1")
    again = crm.open_card("oNew", "测试", "13900000001", idempotency_key="apply-1")
    assert first == again
    assert sum(m["MOBILE_TELEPHONE_NO"] == "13900000001" for m in members(simulator)) == 1


def test_change_feed_pages_in_key_order(simulator, crm):
    requests.post(f"{simulator.url}/sim/touch?count=25", timeout=5)
    keys, after = [], 0
    while True:
        rows, after = crm.changes(after, limit=10)
        keys += [row["PK_PUB_FIELD_CHANGEHIS"] for row in rows]
        if after is None:
            break
    assert keys == sorted(keys) and len(keys) == len(set(keys)) == 25


def test_wrong_api_key_is_rejected(simulator):
    with pytest.raises(CRMRejected) as refused:
        CRMClient(simulator.url, "wrong", timeout_s=1).level(16426780)
    assert refused.value.status == 401


def test_down_crm_is_unavailable_after_bounded_retries(simulator, crm, caplog):
    faults(simulator, down=True)
    with caplog.at_level(logging.INFO), pytest.raises(CRMUnavailable) as failed:
        crm.level(16426780)
    assert "繁忙" in failed.value.message
    assert caplog.text.count("-> 503") == 3  # one try and two retries


def test_changes_are_not_retried(simulator, crm, caplog):
    faults(simulator, down=True)
    with caplog.at_level(logging.INFO), pytest.raises(CRMUnavailable):
        crm.send_sms("13800000000", "hi")
    assert caplog.text.count("-> 503") == 1


def test_slow_crm_times_out(simulator):
    faults(simulator, latency_ms=1500)
    client = CRMClient(simulator.url, "crm-key", timeout_s=0.3, retries=0)
    with pytest.raises(CRMUnavailable):
        client.level(16426780)


def test_garbage_answer_is_a_protocol_error(simulator, crm):
    faults(simulator, garbage=True)
    with pytest.raises(CRMProtocolError):
        crm.level(16426780)


def test_unreachable_crm_is_unavailable():
    client = CRMClient("http://127.0.0.1:9", timeout_s=0.5, retries=0)
    with pytest.raises(CRMUnavailable):
        client.level(16426780)
    assert client.health() is False


def test_log_lines_hold_no_mobile_key_or_member_id(simulator, crm, caplog):
    member = members(simulator)[0]
    with caplog.at_level(logging.DEBUG):
        crm.check_mobile(member["MOBILE_TELEPHONE_NO"])
        crm.member(member["MEMBER_ID"])
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("wxmember"))
    assert "CRM GET" in ours and "CRM POST" in ours
    for secret in (member["MOBILE_TELEPHONE_NO"], "crm-key", str(member["MEMBER_ID"])):
        assert secret not in ours

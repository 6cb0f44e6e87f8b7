"""Binding and unbinding a card from the member page API, against the CRM simulator."""

import time
from datetime import datetime, timezone

import pytest
import requests

from tests import samples
from tests.conftest import WeChat, database_of
from tests.crm_helpers import Member, Sim

PAST = datetime(2000, 1, 1, tzinfo=timezone.utc)


@pytest.fixture
def member_app(make_app):
    return make_app(crm={"timeout_s": 1, "retries": 0})


@pytest.fixture
def sim(member_app):
    return Sim(member_app)


def customer(app, openid):
    return database_of(app)["welab/customers"].find_one({"wechatid": openid})


def is_bound(app, openid):
    return bool((customer(app, openid) or {}).get("isRegister"))


def count(app, collection, **query):
    return database_of(app)[collection].count_documents(query)


def test_bind_an_existing_card(member_app, sim):
    card = sim.a_member(verified=True)
    member = Member(member_app, "oBinder", sim)

    response = member.bind(card["MOBILE_TELEPHONE_NO"])

    assert response.status_code == 200, response.json
    assert response.json["ok"] and response.json["bound"]
    assert response.json["member"]["cardNumber"] == card["MEM_CARD_NO"]
    saved = customer(member_app, "oBinder")
    info = saved["HaiLanMemberInfo"]
    assert info["memberID"] == card["MEMBER_ID"] and info["action"] == "bind"
    assert info["memberCardNumber"] == card["MEM_CARD_NO"]
    assert info["type"] == int(card["LEVEL"]) and info["createTime"] > 10**12
    assert saved["isRegister"] is True and saved["registerTime"] > 10**12
    assert saved["mobile"] == card["MOBILE_TELEPHONE_NO"]
    assert count(member_app, "welab/feeds", wxid="oBinder", action="bind") == 1
    assert count(member_app, "lavico/user/logs", wxid="oBinder", action="bind") == 1
    assert sim.member(card["MEMBER_ID"])["WX_OPENID"] == "oBinder"  # the CRM knows


def test_unverified_mobile_asks_for_the_card_number(member_app, sim):
    card = sim.a_member(verified=False)
    member = Member(member_app, "oCardAsked", sim)
    mobile = card["MOBILE_TELEPHONE_NO"]
    assert member.send_code(mobile).status_code == 200
    code = sim.last_code(mobile)

    first = member.bind(mobile, code)
    wrong = member.bind(mobile, code, cardNumber="X000000000")
    right = member.bind(mobile, code, cardNumber=card["MEM_CARD_NO"])

    assert (first.status_code, first.json["error"]) == (400, "card_required")
    assert "卡号" in first.json["message"]
    assert wrong.json["error"] == "card_mismatch"
    assert right.status_code == 200 and right.json["member"]["cardNumber"] == card["MEM_CARD_NO"]


def test_new_mobile_opens_a_white_card_with_a_name(member_app, sim):
    member = Member(member_app, "oNewbie", sim)
    member.send_code("13700000001")
    code = sim.last_code("13700000001")

    nameless = member.bind("13700000001", code)
    opened = member.bind("13700000001", code, name="李小蓝")

    assert nameless.json["error"] == "name_required"
    assert opened.status_code == 200
    assert opened.json["member"]["typeName"] == "白卡"
    feed = database_of(member_app)["welab/feeds"].find_one({"action": "bind"})
    assert "开通" in feed["content"]
    crm_member = next(m for m in sim.members() if m["MOBILE_TELEPHONE_NO"] == "13700000001")
    assert crm_member["WX_OPENID"] == "oNewbie" and crm_member["MEM_PSN_CNAME"] == "李小蓝"


def test_identity_comes_from_the_session_not_the_request(member_app, sim):
    card = sim.a_member()
    member = Member(member_app, "oSession", sim)
    response = member.bind(card["MOBILE_TELEPHONE_NO"], openid="oVictim", memberID=1)
    assert response.status_code == 200
    assert customer(member_app, "oSession")["isRegister"] is True
    assert customer(member_app, "oVictim") is None


def test_api_without_a_session_is_401(member_app):
    client = member_app.test_client()
    for response in (
        client.get("/m/api/me"),
        client.post("/m/api/sms", json={"mobile": "13800000000"}),
        client.post("/m/api/bind", json={"mobile": "13800000000", "code": "123456"}),
    ):
        assert response.status_code == 401 and response.json["error"] == "not_logged_in"


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"mobile": "12345", "code": "123456"}, "invalid_mobile"),
        ({"mobile": "13800000000", "code": "12ab"}, "invalid_code"),
        ({"mobile": "13800000000", "code": "123456", "cardNumber": "<script>"}, "invalid_card"),
        ({"mobile": "13800000000", "code": "123456", "name": "长" * 21}, "invalid_name"),
        ({"mobile": ["13800000000"], "code": "123456"}, "invalid_mobile"),
        ({"mobile": "13800000000\n", "code": "123456"}, "invalid_mobile"),
        ({"mobile": "１３８００００００００", "code": "123456"}, "invalid_mobile"),  # full-width
        ({"mobile": "1380000000٠", "code": "123456"}, "invalid_mobile"),  # Arabic-Indic zero
        ({"mobile": "13800000000", "code": "123456\n"}, "invalid_code"),
    ],
)
def test_bad_input_is_400_and_writes_nothing(member_app, sim, body, error):
    member = Member(member_app, "oBad", sim)
    response = member.client.post("/m/api/bind", json=body)
    assert (response.status_code, response.json["error"]) == (400, error)
    assert response.json["message"]
    assert count(member_app, "lavico/user/logs") == 0


@pytest.mark.parametrize("mobile", ["MOBILE\n", "MOBILE ", "１３９MOBILE"])
def test_a_mobile_in_disguise_gets_no_code(member_app, sim, mobile):
    card = sim.a_member()
    disguised = mobile.replace("MOBILE", card["MOBILE_TELEPHONE_NO"])
    response = Member(member_app, "oSneaky", sim).send_code(disguised)
    assert (response.status_code, response.json["error"]) == (400, "invalid_mobile")
    assert sim.texts(card["MOBILE_TELEPHONE_NO"]) == []


def test_non_json_post_is_refused(member_app, sim):
    member = Member(member_app, "oForm", sim)
    response = member.client.post("/m/api/bind", data={"mobile": "13800000000"})
    assert response.status_code == 415


def test_dev_login_is_404_when_wechat_oauth_is_configured(make_app):
    app = make_app(wechat={"appsecret": "secret"})
    assert app.test_client().get("/m/dev/login?openid=o1").status_code == 404


# -- SMS codes -------------------------------------------------------------------


def test_wrong_code_then_too_many_attempts(member_app, sim):
    card = sim.a_member()
    mobile = card["MOBILE_TELEPHONE_NO"]
    member = Member(member_app, "oGuess", sim)
    member.send_code(mobile)
    right = sim.last_code(mobile)
    wrong = "000000" if right != "000000" else "111111"

    errors = [member.bind(mobile, wrong).json["error"] for _ in range(5)]
    late = member.bind(mobile, right)

    assert errors == ["code_wrong"] * 4 + ["code_attempts"]
    assert late.json["error"] == "code_attempts"  # even the right code is dead now
    assert not is_bound(member_app, "oGuess")


def test_code_belongs_to_its_mobile_and_is_single_use(member_app, sim):
    first, second = sim.a_member(index=0), sim.a_member(index=1)
    member = Member(member_app, "oOnce", sim)
    member.send_code(first["MOBILE_TELEPHONE_NO"])
    code = sim.last_code(first["MOBILE_TELEPHONE_NO"])

    other_mobile = member.bind(second["MOBILE_TELEPHONE_NO"], code)
    used = member.bind(first["MOBILE_TELEPHONE_NO"], code)
    member.unbind(first["MOBILE_TELEPHONE_NO"])
    reused = member.bind(first["MOBILE_TELEPHONE_NO"], code)

    assert other_mobile.json["error"] == "code_expired"  # no code was sent to that mobile
    assert used.status_code == 200
    assert reused.json["error"] == "code_expired"


def test_code_of_another_openid_does_not_work(member_app, sim):
    card = sim.a_member()
    mobile = card["MOBILE_TELEPHONE_NO"]
    Member(member_app, "oAsker", sim).send_code(mobile)
    thief = Member(member_app, "oThief", sim)
    assert thief.bind(mobile, sim.last_code(mobile)).status_code == 400


def test_expired_code_is_refused(member_app, sim):
    card = sim.a_member()
    mobile = card["MOBILE_TELEPHONE_NO"]
    member = Member(member_app, "oSlow", sim)
    member.send_code(mobile)
    database_of(member_app)["wxmember/sms_codes"].update_many({}, {"$set": {"expireAt": PAST}})
    assert member.bind(mobile, sim.last_code(mobile)).json["error"] == "code_expired"


def test_sms_sends_are_limited_per_mobile_and_per_openid(member_app, sim):
    member = Member(member_app, "oSpammer", sim)
    first, again = member.send_code("13900000001"), member.send_code("13900000001")
    assert first.status_code == 200
    assert (again.status_code, again.json["error"]) == (429, "sms_rate_limited")
    assert len(sim.texts("13900000001")) == 1

    answers = [member.send_code(f"139000001{n:02d}").status_code for n in range(12)]
    assert answers.count(200) == 9  # ten a day per openid, one already used
    assert set(answers[9:]) == {429}


def test_sms_failure_on_the_crm_is_a_clear_message(member_app, sim):
    sim.faults(down=True)
    response = Member(member_app, "oNoSms", sim).send_code("13900000002")
    assert (response.status_code, response.json["error"]) == (503, "sms_failed")
    assert count(member_app, "wxmember/sms_codes") == 0


def test_a_send_the_crm_failed_uses_up_no_allowance(member_app, sim):
    member = Member(member_app, "oRetrier", sim)
    sim.faults(down=True)
    assert member.send_code("13900000003").status_code == 503
    sim.faults(down=False)
    assert member.send_code("13900000003").status_code == 200  # not "too frequent"
    assert len(sim.texts("13900000003")) == 1


def test_a_refused_send_uses_up_no_allowance_of_the_other_limits(member_app, sim):
    member = Member(member_app, "oBusy", sim)
    assert member.send_code("13900000004").status_code == 200
    assert member.send_code("13900000004").status_code == 429  # the minute limit
    counters = database_of(member_app)["wxmember/rate_limits"]
    day = counters.find_one({"_id": {"$regex": "^sms-mobile-day[|]13900000004[|]"}})
    assert day["hits"] == 1  # the refused send took nothing of the day's five


def lose_the_first_answer_to(app, path, monkeypatch):
    """The CRM does the change, but its answer to the first request never comes back."""
    session = app.extensions["wxmember"].crm.session
    real, lost = session.request, []

    def lossy(method, url, **kwargs):
        response = real(method, url, **kwargs)
        if url.endswith(path) and not lost:
            lost.append(url)
            raise requests.ReadTimeout("answer lost")
        return response

    monkeypatch.setattr(session, "request", lossy)
    return lost


def test_a_bind_whose_crm_answer_is_lost_is_asked_again_and_agrees(member_app, sim, monkeypatch):
    card = sim.a_member(verified=True)
    member = Member(member_app, "oLostAnswer", sim)
    lost = lose_the_first_answer_to(member_app, "/members/bind", monkeypatch)

    response = member.bind(card["MOBILE_TELEPHONE_NO"])

    assert lost and response.status_code == 200 and response.json["bound"]
    assert is_bound(member_app, "oLostAnswer")
    assert sim.member(card["MEMBER_ID"])["WX_OPENID"] == "oLostAnswer"  # both sides agree


# -- conflicts -------------------------------------------------------------------


def test_one_mobile_one_wechat_user(member_app, sim):
    card = sim.a_member()
    mobile = card["MOBILE_TELEPHONE_NO"]
    assert Member(member_app, "oFirst", sim).bind(mobile).status_code == 200
    second = Member(member_app, "oSecond", sim)
    second.a_minute_later()
    for response in (second.send_code(mobile), second.bind(mobile, "123456")):
        assert (response.status_code, response.json["error"]) == (409, "mobile_taken")
        assert "其他微信" in response.json["message"]
    assert len(sim.texts(mobile)) == 1  # no code was even sent


def test_card_bound_to_another_wechat_user_on_the_crm(member_app, sim):
    card = sim.a_member()
    sim.change(card["MEMBER_ID"], WX_OPENID="oSomeoneElse")
    response = Member(member_app, "oLate", sim).bind(card["MOBILE_TELEPHONE_NO"])
    assert (response.status_code, response.json["error"]) == (409, "card_taken")
    assert not is_bound(member_app, "oLate")


def test_already_bound_member_cannot_bind_again(member_app, sim):
    first, second = sim.a_member(index=0), sim.a_member(index=1)
    member = Member(member_app, "oTwice", sim)
    assert member.bind(first["MOBILE_TELEPHONE_NO"]).status_code == 200
    for again in (
        member.send_code(second["MOBILE_TELEPHONE_NO"]),
        member.bind(second["MOBILE_TELEPHONE_NO"], "123456"),
    ):
        assert (again.status_code, again.json["error"]) == (409, "already_bound")


def test_database_refuses_a_card_won_by_a_race_and_the_crm_is_unbound(member_app, sim, monkeypatch):
    card = sim.a_member()
    mobile = card["MOBILE_TELEPHONE_NO"]
    customers = member_app.extensions["wxmember"].records.customers
    # Another WeChat user got the same card between our checks and our write.
    customers.bind("oWinner", card["MEMBER_ID"], card["MEM_CARD_NO"], 1, "13000000000")
    monkeypatch.setattr(customers, "bound_to", lambda field, value: None)

    response = Member(member_app, "oLoser", sim).bind(mobile)

    assert (response.status_code, response.json["error"]) == (409, "card_taken")
    assert not is_bound(member_app, "oLoser")
    member_app.extensions["wxmember"].background.shutdown()  # let the outbox delivery finish
    assert sim.member(card["MEMBER_ID"])["WX_OPENID"] is None  # the CRM was told to unbind


# -- the CRM misbehaving ---------------------------------------------------------


@pytest.mark.parametrize(
    "fault",
    [{"down": True}, {"error_rate": 1.0}, {"garbage": True}, {"latency_ms": 2500}],
    ids=["down", "500", "garbage", "slow"],
)
def test_crm_failure_during_bind_writes_nothing_and_keeps_the_code(member_app, sim, fault):
    card = sim.a_member()
    mobile = card["MOBILE_TELEPHONE_NO"]
    member = Member(member_app, "oPatient", sim)
    member.send_code(mobile)
    code = sim.last_code(mobile)
    sim.faults(**fault)

    started = time.monotonic()
    response = member.bind(mobile, code)
    elapsed = time.monotonic() - started

    assert (response.status_code, response.json["error"]) == (503, "crm_unavailable")
    assert "稍后" in response.json["message"]
    assert elapsed < 5  # a clear answer within a few seconds
    assert not is_bound(member_app, "oPatient")
    assert count(member_app, "welab/feeds") == 0 and count(member_app, "lavico/user/logs") == 0

    sim.faults(down=False, error_rate=0, garbage=False, latency_ms=0)
    assert member.bind(mobile, code).status_code == 200  # the same code still works


# -- unbinding -------------------------------------------------------------------


def test_unbind_from_the_page(member_app, sim):
    card = sim.a_member()
    mobile = card["MOBILE_TELEPHONE_NO"]
    member = Member(member_app, "oLeaver", sim)
    member.bind(mobile)

    response = member.unbind(mobile)

    assert response.status_code == 200 and response.json["bound"] is False
    saved = customer(member_app, "oLeaver")
    assert saved["isRegister"] is False and saved["unRegisterTime"] > 10**12
    assert saved["HaiLanMemberInfo"]["action"] == "unbind"
    assert count(member_app, "welab/feeds", action="unbind") == 1
    assert count(member_app, "lavico/user/logs", action="unbind") == 1
    member_app.extensions["wxmember"].background.shutdown()
    assert sim.member(card["MEMBER_ID"])["WX_OPENID"] is None


def test_unbind_needs_a_binding(member_app, sim):
    member = Member(member_app, "oNever", sim)
    response = member.send_code(purpose="unbind")
    assert (response.status_code, response.json["error"]) == (409, "not_bound")


def test_unbind_while_crm_is_down_reaches_it_later_once(member_app, sim):
    card = sim.a_member()
    mobile = card["MOBILE_TELEPHONE_NO"]
    services = member_app.extensions["wxmember"]
    member = Member(member_app, "oOffline", sim)
    member.bind(mobile)
    member.a_minute_later()
    member.send_code(purpose="unbind")
    code = sim.last_code(mobile)
    sim.faults(down=True)

    response = member.client.post("/m/api/unbind", json={"code": code})
    services.background.shutdown()

    assert response.status_code == 200  # the member is unbound here at once
    assert customer(member_app, "oOffline")["isRegister"] is False
    [pending] = services.outbox.pending()
    assert pending["kind"] == "unbind" and pending["memberID"] == card["MEMBER_ID"]
    assert sim.member(card["MEMBER_ID"])["WX_OPENID"] == "oOffline"

    sim.faults(down=False)
    database_of(member_app)["wxmember/outbox"].update_many({}, {"$set": {"nextAttemptAt": PAST}})
    assert services.outbox.deliver()["delivered"] == 1
    assert services.outbox.deliver()["delivered"] == 0  # once
    assert sim.member(card["MEMBER_ID"])["WX_OPENID"] is None


def test_member_deleting_the_wechat_card_unbinds(member_app, sim):
    card = sim.a_member()
    Member(member_app, "oUser0001", sim).bind(card["MOBILE_TELEPHONE_NO"])

    response = WeChat(member_app.test_client()).post(samples.fill(samples.USER_DEL_CARD))

    assert response.get_data(as_text=True) == "success"
    assert customer(member_app, "oUser0001")["isRegister"] is False
    member_app.extensions["wxmember"].background.shutdown()
    assert sim.member(card["MEMBER_ID"])["WX_OPENID"] is None


# -- all or nothing (transactions: the engine or a replica set, never mongomock) ----------


def _failing_log_writes(app, monkeypatch):
    """The log store refuses writes from now on, as a full disk or a lost primary would."""

    def refuse(*args, **kwargs):
        raise RuntimeError("log store unavailable")

    monkeypatch.setattr(app.extensions["wxmember"].records.logs, "append", refuse)


@pytest.mark.mongo
def test_a_binding_whose_log_record_fails_leaves_nothing_written(member_app, sim, monkeypatch):
    card = sim.a_member(verified=True)
    member = Member(member_app, "oHalfBound", sim)
    assert member.send_code(card["MOBILE_TELEPHONE_NO"]).status_code == 200
    code = sim.last_code(card["MOBILE_TELEPHONE_NO"])
    _failing_log_writes(member_app, monkeypatch)

    assert member.bind(card["MOBILE_TELEPHONE_NO"], code).status_code == 500

    assert not is_bound(member_app, "oHalfBound")
    assert count(member_app, "welab/feeds", wxid="oHalfBound") == 0


@pytest.mark.mongo
def test_an_unbinding_whose_log_record_fails_leaves_the_binding(member_app, sim, monkeypatch):
    card = sim.a_member(verified=True)
    member = Member(member_app, "oHalfUnbound", sim)
    assert member.bind(card["MOBILE_TELEPHONE_NO"]).status_code == 200
    _failing_log_writes(member_app, monkeypatch)

    assert member.unbind(card["MOBILE_TELEPHONE_NO"]).status_code == 500

    assert is_bound(member_app, "oHalfUnbound")  # no unbinding without its CRM notice
    assert count(member_app, "wxmember/outbox") == 0
    assert count(member_app, "welab/feeds", wxid="oHalfUnbound", action="unbind") == 0

"""Requests are checked against ``wxmember/web/openapi.yaml`` before any handler runs; and
one regression test for each 5xx or non-conforming answer that fuzzing (and reading
the code the fuzzer pointed at) found.
"""

import base64
import json

import pytest

from jobs.runner import run_job
from tests.conftest import STAFF_TOKEN, database_of
from tests.crm_helpers import Member, Sim, create_activity
from tests.test_shake import CASH, member_with_points
from wxmember.crm.client import header_safe
from wxmember.web import api_schema

AUTH = {"Authorization": f"Bearer {STAFF_TOKEN}"}
BIG = 2**70  # past MongoDB's 64-bit integers: once a 500 where it was stored or compared


@pytest.fixture
def staff(app):
    client = app.test_client()

    def call(method, path, body=None, **kwargs):
        response = client.open(path, method=method, json=body, headers=AUTH, **kwargs)
        return response.status_code, response.json

    return call


def raw(client, path, text, headers=AUTH):
    """POST ``text`` as a JSON body, exactly as written (lone surrogates, huge numbers)."""
    response = client.post(path, data=text, content_type="application/json", headers=headers)
    return response.status_code, response.json


# -- the document comes first --------------------------------------------------------------


def test_a_body_breaking_the_document_never_reaches_the_handler(app, staff, monkeypatch):
    def must_not_run(*args, **kwargs):
        raise AssertionError("the handler ran")

    monkeypatch.setattr(app.extensions["wxmember"].members.transactions, "apply", must_not_run)
    body = {"formId": "F1", "memberID": 1, "type": "gift", "amount": 1}
    assert staff("POST", "/api/transactions", body) == (
        400,
        {"ok": False, "error": "invalid_type", "message": 'type must be one of "purchase", '
         '"recharge", "refund"'},
    )  # fmt: skip


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({"memberID": 1, "type": "purchase", "amount": 1}, "invalid_form_id", "formId"),
        ({"formId": "F", "memberID": 0, "type": "purchase", "amount": 1}, "invalid_member", "ID"),
        ({"formId": "F", "memberID": 1, "type": "purchase", "amount": 0.001}, "invalid_amount", ""),
        (
            {"formId": "F", "memberID": 1, "type": "refund", "amount": 1, "refundOf": ""},
            "invalid_refund",
            "",
        ),  # noqa: E501
        (
            {"formId": "F", "memberID": 1, "type": "purchase", "amount": 1, "items": [{}]},
            "invalid_items",
            "productId",
        ),  # noqa: E501
        (
            {
                "formId": "F",
                "memberID": 1,
                "type": "purchase",
                "amount": 1,
                "items": [{"productId": "p", "amount": -1}],
            },
            "invalid_amount",
            "items[0].amount",
        ),  # noqa: E501
        (
            {"formId": "F", "memberID": 1, "type": "purchase", "amount": 1, "pointsSpent": -1},
            "invalid_points",
            "",
        ),  # noqa: E501
        ([], "invalid_body", "body"),
    ],
)
def test_the_code_is_the_one_the_document_names_for_the_field(staff, body, code, field):
    status, answer = staff("POST", "/api/transactions", body)
    assert (status, answer["error"]) == (400, code)
    assert field in answer["message"]


def test_member_refusals_speak_chinese(member_app_client):
    response = member_app_client.post("/m/api/withdrawals", json={"amount": "十"})
    assert response.status_code == 400
    assert (response.json["error"], response.json["message"]) == (
        "invalid_amount",
        "请输入正确的提现金额",
    )
    answer = member_app_client.post("/m/api/shake", json={"aid": 5}).json
    assert (answer["error"], answer["message"]) == ("invalid_body", "请求格式不正确")


@pytest.fixture
def member_app_client(app):
    client = app.test_client()
    client.get("/m/dev/login?openid=oSchema")
    return client


def test_a_session_comes_before_the_body(app):
    response = app.test_client().post("/m/api/bind", json={"mobile": 1})
    assert (response.status_code, response.json["error"]) == (401, "not_logged_in")


def test_the_token_comes_before_the_body(app):
    response = app.test_client().post("/api/transactions", json={"type": 1})
    assert (response.status_code, response.json["error"]) == (401, "unauthorized")


def test_schema_patterns_end_at_the_end_of_the_string():
    validator = api_schema.Validator({"pattern": "^[0-9]{6}$"})
    assert validator.is_valid("123456") and not validator.is_valid("123456\n")


def test_amounts_are_multiples_of_a_fen_as_people_write_them():
    validator = api_schema.Validator({"multipleOf": 0.01})
    assert all(validator.is_valid(v) for v in (0.07, 1.15, 19.99, 123456.78, 10_000_000, 3))
    assert not any(validator.is_valid(v) for v in (0.005, 1.001, 1e308, 4.390000000000001))


@pytest.mark.parametrize("limit", ["١٢", "1_0", " 5", "5.0", "", "99999999999999999999"])
def test_query_numbers_are_ascii_whole_numbers_in_range(app, staff, limit):
    status, answer = staff("GET", f"/api/logs?limit={limit}")
    assert (status, answer["error"]) == (400, "invalid_query") and "limit" in answer["message"]
    head = app.test_client().head(f"/api/jobs?limit={limit}", headers=AUTH)
    assert head.status_code == 400  # a HEAD is checked as the GET it is


def test_unknown_routes_and_methods_of_the_apis_answer_json(app):
    client = app.test_client()
    missing = client.get("/api/nothing", headers=AUTH)
    assert (missing.status_code, missing.json["error"]) == (404, "not_found")
    wrong = client.delete("/api/logs", headers=AUTH)
    assert (wrong.status_code, wrong.json["error"]) == (405, "method_not_allowed")
    assert "GET" in wrong.headers["Allow"]
    member = client.put("/m/api/me")
    assert (member.status_code, member.json["ok"]) == (405, False)
    assert client.get("/m/nothing").mimetype == "text/html"  # pages keep Werkzeug's page


def test_a_body_over_a_mebibyte_is_a_json_413(app):
    big = json.dumps({"formId": "F", "pad": "x" * (1024 * 1024)})
    status, answer = raw(app.test_client(), "/api/transactions", big)
    assert (status, answer["error"]) == (413, "too_large")


# -- regressions: 5xx the fuzzer found -----------------------------------------------------


def test_lone_surrogate_in_a_body_is_a_400_not_a_500(app, member_app_client):
    # fuzz: POST /m/api/shake {"shakeId": "\udad3..."} reached MongoDB, which cannot store it
    response = member_app_client.post(
        "/m/api/shake", data='{"shakeId": "\\udad3"}', content_type="application/json"
    )
    assert (response.status_code, response.json["error"]) == (400, "invalid_body")
    status, answer = raw(app.test_client(), "/api/grades", '{"level": 1, "name": "\\ud800"}')
    assert (status, answer["error"]) == (400, "invalid_body")
    paired = '{"level": 1, "name": "\\ud83d\\ude00"}'  # a real emoji is fine
    assert raw(app.test_client(), "/api/grades", paired)[0] == 200


@pytest.fixture
def shake_app(make_app):
    app = make_app(crm={"timeout_s": 2, "retries": 0})
    run_job(app.extensions["wxmember"], "activities")
    return app


def test_a_shake_id_of_any_characters_wins_its_coupon(shake_app):
    # fuzz: a win whose shakeId was not Latin-1 put it in the CRM's Idempotency-Key
    # header, and requests refused to send it: a 500 (and a draw the sweep could not finish)
    aid = create_activity(shake_app, [{"promotion_code": CASH, "lottery_chance": 100, "stock": 5}])
    member = member_with_points(shake_app, Sim(shake_app), "oUnicode", 30)
    coupons = {}
    for shake_id in ("摇一摇-𠀀", "tab\there", "摇一摇-𠀀"):  # the last: a repeat of the first
        response = member.client.post("/m/api/shake", json={"aid": aid, "shakeId": shake_id})
        assert response.status_code == 200 and response.json["win"] is True, response.json
        coupons.setdefault(shake_id, set()).add(response.json["coupon_no"])
    assert [len(numbers) for numbers in coupons.values()] == [1, 1]
    _, issued = shake_app.extensions["wxmember"].crm.coupons(openid="oUnicode")
    assert issued == 2  # one coupon per shake, none for the repeat


def test_idempotency_keys_are_header_safe_and_stable():
    assert header_safe("shake:abc|oX|123") == "shake:abc|oX|123"  # kept as it was
    hashed = header_safe("shake:abc|oX|摇")
    assert hashed == header_safe("shake:abc|oX|摇") and hashed.isascii() and len(hashed) == 40
    assert header_safe("k" * 201) != "k" * 201


def test_a_name_that_is_not_text_is_a_400_not_a_500(app):
    # fuzz, before the document was enforced: POST /m/api/bind {"name": ["x"]} → .strip() 500
    member = Member(app, "oNamed", Sim(app))
    body = {"mobile": "13800000000", "code": "123456", "name": ["x"]}
    response = member.client.post("/m/api/bind", json=body)
    assert (response.status_code, response.json["error"]) == (400, "invalid_name")


@pytest.mark.parametrize("query", ["job=", "job=nope"])
def test_an_empty_enum_query_value_is_refused_not_ignored(staff, query):
    # fuzz: GET /api/jobs?job= (and /api/drift?state=) answered 200 to a value outside the enum
    assert staff("GET", f"/api/jobs?{query}")[0] == 400
    assert staff("GET", f"/api/drift?{query.replace('job', 'state')}")[0] == 400


# -- regressions: 5xx found reading the code the fuzzer pointed at -------------------------


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/point-rules", {"ruleId": "r", "type": "consumption", "amount": 1, "points": BIG}),
        ("/api/point-rules", {"ruleId": "r", "type": "consumption", "amount": 1e308, "points": 1}),
        ("/api/point-rules", {"ruleId": "r", "type": "recharge", "amount": 1, "points": 1,
                              "grade": BIG}),
        ("/api/grades", {"level": BIG, "name": "x"}),
        ("/api/grades", {"level": 1, "name": "x",
                         "up": {"by": "orders", "months": 1e300, "number": 1, "to": 1}}),
        ("/api/grades", {"level": 1, "name": "x",
                         "up": {"by": "spend", "months": 1, "number": 1e308, "to": 1}}),
    ],
)  # fmt: skip
def test_numbers_mongodb_cannot_store_are_refused(app, staff, path, body):
    status, answer = raw(app.test_client(), path, json.dumps(body))
    assert (status, answer["error"]) == (400, "invalid_definition")
    assert staff("GET", path)[1]["items"] == []


def test_domain_checks_hold_without_the_document_too():
    from wxmember.members.grades import InvalidGrade, check_grade
    from wxmember.members.points import InvalidRule, check_rule

    rule = {"ruleId": "r", "type": "consumption", "amount": 1, "points": 1}
    for bad in ({"points": BIG}, {"amount": 1e308}, {"grade": BIG}, {"amount": 0.004}):
        with pytest.raises(InvalidRule):
            check_rule({**rule, **bad})
    up = {"by": "orders", "months": 1, "number": 1, "to": 1}
    for bad in ({"level": BIG}, {"up": {**up, "months": 1e300}}, {"up": {**up, "to": BIG}}):
        with pytest.raises(InvalidGrade):
            check_grade({"level": 1, "name": "x", **bad})


def test_a_step_of_less_than_a_fen_is_refused_so_purchases_do_not_divide_by_zero(staff, app):
    rule = {"ruleId": "r", "type": "consumption", "amount": 0.004, "points": 1}
    assert staff("POST", "/api/point-rules", rule)[0] == 400  # was stored as 0 fen per step
    purchase = {"formId": "F1", "memberID": 7, "type": "purchase", "amount": 10}
    assert staff("POST", "/api/transactions", purchase)[0] == 200  # was ZeroDivisionError


def test_a_referrer_mongodb_cannot_store_is_refused(app, staff):
    database_of(app)["welab/customers"].insert_one(
        {"wechatid": "oRef", "isRegister": True, "HaiLanMemberInfo": {"memberID": 7}}
    )
    status, answer = raw(app.test_client(), "/api/members/7", json.dumps({"FromID": BIG}))
    assert (status, answer["error"]) == (400, "invalid_member")


def test_a_withdrawal_decision_with_a_list_for_a_body_is_a_400(app, staff):
    from bson import ObjectId

    status, answer = staff("POST", f"/api/withdrawals/{ObjectId()}/approve", [1])
    assert (status, answer["error"]) == (400, "invalid_body")  # was list.get: a 500


@pytest.mark.parametrize("since", ["99999999999999999999999", "9007199254740992", "١٢٣"])
def test_log_times_mongodb_cannot_compare_are_refused(staff, since):
    status, answer = staff("GET", f"/api/logs?since={since}")
    assert (status, answer["error"]) == (400, "invalid_query") and "since" in answer["message"]


def test_a_forged_cursor_with_a_huge_time_is_refused(staff):
    forged = base64.urlsafe_b64encode(json.dumps([BIG, "0" * 24]).encode()).decode()
    status, answer = staff("GET", f"/api/logs?cursor={forged.rstrip('=')}")
    assert (status, answer["error"]) == (400, "invalid_query")


def test_an_operator_for_an_activity_id_is_refused(member_app_client):
    # {"aid": {"$gt": ""}} went into find_one({"_id": ...}) and drew in whatever matched
    response = member_app_client.post("/m/api/shake", json={"aid": {"$gt": ""}})
    assert (response.status_code, response.json["error"]) == (400, "invalid_body")


def test_an_sms_purpose_must_be_one_of_the_two(member_app_client):
    answer = member_app_client.post("/m/api/sms", json={"purpose": ["unbind"]}).json
    assert answer["error"] == "invalid_body"  # was taken as "bind" without a word

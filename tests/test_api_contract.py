"""The staff and member API keep to ``wxmember/web/openapi.yaml``: every request of a real
session of both (a member binds, shakes, withdraws and unbinds; staff set up rules,
grades, activities, record transactions, decide withdrawals, run a job) and every
answer, refusals included, is checked against the document with openapi-core.
"""

import time
from pathlib import Path

import pytest
import requests
import yaml

from jobs.runner import run_job
from tests.conftest import STAFF_TOKEN
from tests.crm_helpers import Sim
from wxmember.web import api_schema

DOCUMENT = Path(__file__).resolve().parent.parent / "wxmember" / "web" / "openapi.yaml"
AUTH = {"Authorization": f"Bearer {STAFF_TOKEN}"}
CASH = "CQL201404010004"


def test_the_document_is_valid_openapi_and_each_example_keeps_to_its_schema():
    from openapi_spec_validator import validate

    document = yaml.safe_load(DOCUMENT.read_text(encoding="utf-8"))
    validate(document)
    api = api_schema.Api(document)
    for operation in api.operations:
        if operation.body is None:
            continue
        media = api.resolve(document["paths"][operation.path][operation.method]["requestBody"])
        example = media["content"]["application/json"]["example"]
        assert list(operation.body.iter_errors(example)) == [], operation.path


def test_every_route_of_the_two_apis_is_in_the_document(app):
    documented = {(op.method.upper(), op.path) for op in api_schema.api().operations}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(("/api/", "/m/api/")):
            continue
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            for path in _concrete(rule.rule):
                assert (method, path) in documented, (method, rule.rule)
    assert len(documented) == sum(
        len(_concrete(r.rule)) * len(r.methods - {"HEAD", "OPTIONS"})
        for r in app.url_map.iter_rules()
        if r.rule.startswith(("/api/", "/m/api/"))
    )


def _concrete(rule):
    """``/a/<int:x>/<any(p, q):y>`` → ``/a/{x}/p``, ``/a/{x}/q`` (the document's names)."""
    import re

    names = {"member_id": "memberID", "run_id": "runId", "name": "job"}
    names["withdrawal_id"] = "withdrawalId"
    names.update(address_id="addressId", invoice_id="invoiceId")
    names.update(coupon_id="couponId", item_id="itemId")  # coupons, points redemption
    names.update(rule_id="ruleId", promotion_id="promotionId")  # rules removed, switched off
    paths = [""]
    for part in re.split(r"(<[^>]+>)", rule):
        if part.startswith("<any("):
            choices = part[5 : part.index(")")].split(", ")
            paths = [p + choice for p in paths for choice in choices]
        elif part.startswith("<"):
            name = part[1:-1].split(":")[-1]
            paths = [p + "{" + names.get(name, name) + "}" for p in paths]
        else:
            paths = [p + part for p in paths]
    return paths


class Checker:
    """Checks each request and answer of the API against the document (a requests hook)."""

    def __init__(self, base_url):
        from openapi_core import OpenAPI

        spec = yaml.safe_load(DOCUMENT.read_text(encoding="utf-8"))
        spec["servers"] = [{"url": base_url}]
        self.openapi = OpenAPI.from_dict(spec)
        self.checked, self.problems, self.statuses = 0, [], set()
        self.bad_request = False  # the next request breaks the document on purpose

    def __call__(self, response, *args, **kwargs):
        from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse

        path = requests.utils.urlparse(response.url).path
        if not path.startswith(("/api/", "/m/api/")):
            return response
        request = RequestsOpenAPIRequest(response.request)
        try:
            if not self.bad_request:
                self.openapi.validate_request(request)
            self.openapi.validate_response(request, RequestsOpenAPIResponse(response))
        except Exception as problem:  # every kind of mismatch is a finding to report
            cause = problem.__cause__ or problem
            self.problems.append(f"{response.request.method} {path}: {cause}")
        self.bad_request = False
        self.checked += 1
        self.statuses.add(response.status_code)
        return response


class Client:
    """A session of the API over HTTP whose every exchange the checker sees."""

    def __init__(self, url, checker, headers=None):
        self.url, self.checker = url, checker
        self.session = requests.Session()
        self.session.headers.update(headers or {})
        self.session.hooks["response"].append(checker)

    def call(self, method, path, body=None, status=200, bad=False, **kwargs):
        self.checker.bad_request = bad
        response = self.session.request(method, self.url + path, json=body, timeout=10, **kwargs)
        assert response.status_code == status, (method, path, response.text)
        return response.json()

    def login(self, openid):
        login = requests.get(f"{self.url}/m/dev/login", params={"openid": openid}, timeout=5)
        self.session.cookies.update(login.history[0].cookies if login.history else login.cookies)


@pytest.fixture
def contract_app(make_app, live_server_for):
    app = make_app(crm={"timeout_s": 2, "retries": 0})
    run_job(app.extensions["wxmember"], "activities")  # the CRM's coupons, for prizes
    return app, live_server_for(app).url


def test_a_real_session_of_both_apis_keeps_to_the_document(contract_app):
    pytest.importorskip("openapi_core")
    app, url = contract_app
    checker = Checker(url)
    staff = Client(url, checker, AUTH)
    member = Client(url, checker)
    sim = Sim(app)
    card = sim.a_member()
    mobile, member_id = card["MOBILE_TELEPHONE_NO"], card["MEMBER_ID"]

    # -- a member binds ----------------------------------------------------------------
    member.call("GET", "/m/api/me", status=401, bad=True)
    member.login("oContract")
    assert member.call("GET", "/m/api/me")["bound"] is False
    member.call("POST", "/m/api/sms", {"mobile": "12345"}, status=400, bad=True)
    member.call("POST", "/m/api/sms", data="mobile=1", status=415, bad=True)
    member.call("POST", "/m/api/sms", {"mobile": mobile})
    member.call("POST", "/m/api/sms", {"mobile": mobile}, status=429)
    member.call("POST", "/m/api/bind", {"mobile": mobile, "code": "000000"}, status=400)
    bound = member.call("POST", "/m/api/bind", {"mobile": mobile, "code": sim.last_code(mobile)})
    assert bound["member"]["memberID"] == member_id
    member.call("POST", "/m/api/bind", {"mobile": mobile, "code": "123456"}, status=409)
    app.extensions["wxmember"].background.shutdown()  # the CRM's opening points first

    # -- staff: definitions --------------------------------------------------------------
    staff.call("GET", "/api/logs", headers={"Authorization": "Bearer wrong"}, status=401, bad=True)
    staff.call("GET", "/api/logs", params={"wxid": "oContract", "limit": 2})
    staff.call("GET", "/api/logs", params={"limit": 0}, status=400, bad=True)
    staff.call("GET", "/api/customers/oContract")
    staff.call("GET", "/api/customers/oNobody", status=404)
    rule = {"ruleId": "consume", "type": "consumption", "amount": 1, "points": 1}
    staff.call("POST", "/api/point-rules", rule)
    staff.call("POST", "/api/point-rules", {**rule, "amount": 0.001}, status=400, bad=True)
    staff.call("GET", "/api/point-rules")
    promotion = {"id": "R100", "name": "充100送30", "threshold": 100, "bonus": 30}
    staff.call("POST", "/api/recharge-promotions", promotion)
    staff.call("GET", "/api/recharge-promotions")
    staff.call("POST", "/api/grades", {"level": 0, "name": "普通会员"})
    up = {"by": "spend", "months": 12, "number": 1000, "to": 1}
    staff.call("POST", "/api/grades", {"level": 1, "name": "VIP", "discount": 0.9})
    staff.call("POST", "/api/grades", {"level": 0, "name": "普通会员", "up": up})
    staff.call("POST", "/api/grades", {"level": 2, "name": "x", "up": {**up, "to": 9}}, status=400)
    staff.call("GET", "/api/grades")

    # -- staff: the member's points and money ----------------------------------------------
    base = f"/api/members/{member_id}"
    staff.call("GET", base)
    staff.call("GET", "/api/members/1", status=404)
    staff.call("POST", base, {"lockGrade": False})
    staff.call("POST", f"{base}/points", {"amount": 100, "reason": "开卡礼", "formId": "G1"})
    taken = {"amount": -(10**9), "reason": "扣", "formId": "G2"}
    staff.call("POST", f"{base}/points", taken, status=409)
    for form, kind, amount, extra in [
        ("R1", "recharge", 100, {}),
        ("P1", "purchase", 1200, {"pointsSpent": 50, "balancePaid": 20}),
        ("P1", "purchase", 1200, {"pointsSpent": 50, "balancePaid": 20}),  # a repeat
        ("F1", "refund", 100, {"refundOf": "P1"}),
    ]:
        body = {"formId": form, "memberID": member_id, "type": kind, "amount": amount, **extra}
        staff.call("POST", "/api/transactions", body)
    too_big = {"formId": "F2", "memberID": member_id, "type": "refund", "amount": 5000}
    staff.call("POST", "/api/transactions", {**too_big, "refundOf": "P1"}, status=400)
    staff.call("POST", "/api/transactions", {**too_big, "refundOf": "P9"}, status=404)
    short = {"formId": "P2", "memberID": member_id, "type": "purchase", "amount": 1}
    staff.call("POST", "/api/transactions", {**short, "pointsSpent": 10**9}, status=409)
    staff.call("POST", "/api/transactions", {**short, "amount": 1e308}, status=400, bad=True)
    staff.call("POST", f"{base}/money/freeze", {"amount": 10, "formId": "Z1"})
    staff.call("POST", f"{base}/money/release", {"amount": 5, "formId": "Z2"})
    staff.call("POST", f"{base}/money/release", {"amount": 500, "formId": "Z3"}, status=409)
    staff.call("POST", f"{base}/earnings", {"amount": 30, "formId": "E1", "summary": "推荐"})
    for kind in ("points", "money", "frozen", "earnings"):
        staff.call("GET", f"{base}/ledgers/{kind}", params={"limit": 2})
    staff.call("GET", f"{base}/ledgers/coins", status=404, bad=True)

    # -- the member reads it ------------------------------------------------------------------
    assert member.call("GET", "/m/api/me")["grade"]["name"] == "VIP"  # 1200 spent
    for kind in ("points", "money", "frozen", "earnings"):
        member.call("GET", f"/m/api/ledgers/{kind}")
    member.call("GET", "/m/api/ledgers/points", params={"before": 2})
    member.call("GET", "/m/api/ledgers/points", params={"before": "x"}, status=400, bad=True)
    member.call("GET", "/m/api/ledgers/coins", status=404, bad=True)
    page = member.call("GET", "/m/api/purchases")
    assert [item["formId"] for item in page["items"]] == ["F1", "P1", "R1"]
    member.call("GET", "/m/api/purchases", params={"before": "x"}, status=400, bad=True)

    # -- the member's details ---------------------------------------------------------------
    member.call("GET", "/m/api/profile")
    details = {"name": "王芳", "gender": "female", "birthday": "1990-05-20", "interests": ["阅读"]}
    member.call("POST", "/m/api/profile", details)
    member.call("POST", "/m/api/profile", {"birthday": "1991-01-01"}, status=409)
    member.call("POST", "/m/api/profile", {"gender": "x"}, status=400, bad=True)
    address = {
        "name": "王芳",
        "mobile": mobile,
        "province": "上海",
        "city": "上海",
        "address": "1号",
    }
    book = member.call("POST", "/m/api/addresses", address)["addresses"]
    member.call("POST", "/m/api/addresses", {**address, "mobile": "1"}, status=400, bad=True)
    member.call("POST", f"/m/api/addresses/{book[0]['ID']}/default")
    member.call("POST", "/m/api/addresses/nope/delete", status=404)
    member.call("POST", f"/m/api/addresses/{book[0]['ID']}/delete")
    titles = member.call("POST", "/m/api/invoices", {"type": 1, "name": "王芳"})["invoices"]
    member.call("POST", "/m/api/invoices", {"type": 2, "name": "某公司"}, status=400)
    member.call("POST", f"/m/api/invoices/{titles[0]['ID']}/delete")

    # -- messages and prepaid ----------------------------------------------------------------
    staff.call("POST", "/api/announcements", {"contents": "会员日", "url": "/m/shake"})
    staff.call("POST", "/api/announcements", {"contents": " "}, status=400, bad=True)
    staff.call("GET", "/api/announcements")
    assert member.call("GET", "/m/api/me")["messages"]["announcements"] == 1
    member.call("GET", "/m/api/messages", params={"tab": "announcements"})
    member.call("GET", "/m/api/messages", params={"tab": "x"}, status=400, bad=True)
    member.call("POST", "/m/api/messages/read", {"tab": "announcements"})
    member.call("GET", "/m/api/prepaid")
    staff.call("GET", f"/api/members/{member_id}/prepaid")
    staff.call("GET", "/api/members/1/prepaid", status=404)

    # -- withdrawals -------------------------------------------------------------------------
    first = member.call("POST", "/m/api/withdrawals", {"amount": 10})["withdrawal"]["id"]
    second = member.call("POST", "/m/api/withdrawals", {"amount": 10})["withdrawal"]["id"]
    member.call("POST", "/m/api/withdrawals", {"amount": 1000}, status=409)
    staff.call("GET", "/api/withdrawals", params={"status": 0})
    staff.call("POST", f"/api/withdrawals/{first}/approve")
    staff.call("POST", f"/api/withdrawals/{second}/reject", {"memo": "信息不全"})
    staff.call("POST", f"/api/withdrawals/{first}/approve", status=409)
    staff.call("POST", "/api/withdrawals/nope/reject", status=404)

    # -- shake ---------------------------------------------------------------------------------
    now = int(time.time() * 1000)
    activity = {
        "name": "摇一摇",
        "start": now - 60_000,
        "end": now + 3_600_000,
        "points": 1,
        "prizes": [{"promotion_code": CASH, "lottery_chance": 100, "stock": 5}],
    }
    aid = staff.call("POST", "/api/activities", activity)["aid"]
    wrong = {**activity, "prizes": [{"promotion_code": "NONE", "lottery_chance": 1, "stock": 1}]}
    staff.call("POST", "/api/activities", wrong, status=400)
    staff.call("GET", "/api/activities")
    staff.call("GET", f"/api/activities/{aid}")
    member.call("GET", "/m/api/shake")
    assert member.call("POST", "/m/api/shake", {"aid": aid, "shakeId": "s1"})["win"] is True
    member.call("POST", "/m/api/shake", {"aid": "none"}, status=404)
    staff.call("POST", f"/api/activities/{aid}/pause")
    member.call("POST", "/m/api/shake", {"aid": aid, "shakeId": "s2"}, status=409)
    staff.call("POST", f"/api/activities/{aid}/resume")
    staff.call("GET", f"/api/activities/{aid}/stats")
    staff.call("GET", "/api/activities/none/stats", status=404)

    # -- jobs and drift ----------------------------------------------------------------------
    run_id = staff.call("POST", "/api/jobs/grades", status=202)["runId"]
    staff.call("POST", "/api/jobs/nope", status=404, bad=True)
    for _ in range(50):
        if staff.call("GET", f"/api/jobs/runs/{run_id}")["run"]["state"] != "running":
            break
        time.sleep(0.1)
    staff.call("GET", "/api/jobs/runs/nope", status=404)
    staff.call("GET", "/api/jobs", params={"job": "grades", "limit": 5})
    staff.call("GET", "/api/drift", params={"state": "open"})

    # -- the member leaves -------------------------------------------------------------------
    app.extensions["wxmember"].database["wxmember/rate_limits"].delete_many({})
    member.call("POST", "/m/api/sms", {"purpose": "unbind"})
    member.call("POST", "/m/api/unbind", {"code": "12345"}, status=400, bad=True)
    member.call("POST", "/m/api/unbind", {"code": sim.last_code(mobile)})
    member.call("POST", "/m/api/shake", {"aid": aid}, status=403)
    member.call("POST", "/m/api/withdrawals", {"amount": 1}, status=409)
    assert member.call("GET", "/m/api/me")["reason"]["code"] == "unbound"
    member.call("GET", "/m/api/ledgers/points", status=409)
    member.call("GET", "/m/api/purchases", status=409)
    member.call("GET", "/m/api/profile", status=409)
    member.call("GET", "/m/api/prepaid", status=409)
    member.call("GET", "/m/api/messages")
    member.call("POST", "/m/api/messages/read", {"tab": "notices"}, status=409)

    assert checker.problems == [], "\n".join(checker.problems)
    assert checker.checked >= 75
    assert {200, 202, 400, 401, 403, 404, 409, 415, 429} <= checker.statuses

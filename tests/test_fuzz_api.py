"""Every operation of ``wxmember/web/openapi.yaml`` fuzzed against the app with schemathesis.

Good and bad input (bodies, query parameters, path parameters, missing auth, other
methods), for the staff token and a bound member's session: no answer is a 5xx,
and every answer is one the document declares (status, content type, body).
The app has data to reach: a bound member with points, money and earnings, a
running shake activity, pending withdrawals, a job run. A case whose ids the
fuzzer made up is, half the time in good input, given the real ones instead.
"""

import os
import time
import zlib
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from jobs.runner import run_job
from tests.conftest import STAFF_TOKEN
from tests.crm_helpers import Member, Sim

DOCUMENT = Path(__file__).resolve().parent.parent / "wxmember" / "web" / "openapi.yaml"
AUTH = {"Authorization": f"Bearer {STAFF_TOKEN}"}
# generated cases per operation (and as many of the schema's boundaries and examples): about
# 40 s for the whole document on the engine; WXMEMBER_FUZZ_EXAMPLES=200 for a longer hunt
EXAMPLES = int(os.environ.get("WXMEMBER_FUZZ_EXAMPLES", "25"))
CASH = "CQL201404010004"
CONFIG = {
    # a query parameter the API does not know is ignored, as a body's property is
    "generation": {"allow-extra-parameters": False},
    "checks": {
        # a body the schema accepts may still break a rule of the domain that the document
        # states in words (chances adding up to ≤ 100, at most two decimals of yuan…): 400
        "positive_data_acceptance": {
            "expected-statuses": ["2xx", "400", "401", "403", "404", "409", "429"]
        },
    },
}


schema = schemathesis.openapi.from_path(
    DOCUMENT, config=schemathesis.config.SchemathesisConfig.from_dict(CONFIG)
)
KNOWN = {}  # the ids and sessions of the app under test (set by ``fuzz_app``)
SESSION = "the-member-session"  # stands for the cookie until the app exists (cases are built early)


@schema.auth(refresh_interval=None, retry_on=[])
class Credentials:
    """The staff token and the member's session, on every case that does not leave them out."""

    def get(self, case, context):
        return SESSION

    def set(self, case, session, context):
        case.headers = {**(case.headers or {}), **AUTH}
        case.cookies = {**(case.cookies or {}), "wxmember_session": session}


@pytest.fixture
def fuzz_app(make_app, live_server_for):
    """The app with a bound member that has points, money, earnings and a withdrawal."""
    app = make_app(crm={"timeout_s": 2, "retries": 0})
    services = app.extensions["wxmember"]
    run_job(services, "activities")
    sim = Sim(app)
    card = sim.a_member()
    member = Member(app, "oFuzzMember", sim)
    assert member.bind(card["MOBILE_TELEPHONE_NO"]).status_code == 200
    services.background.shutdown()
    staff = app.test_client()
    member_id = card["MEMBER_ID"]

    def post(path, body):
        response = staff.post(path, json=body, headers=AUTH)
        assert response.status_code == 200, (path, response.json)
        return response.json

    post(f"/api/members/{member_id}/points", {"amount": 500, "reason": "fuzz", "formId": "P1"})
    post(
        "/api/transactions",
        {"formId": "R1", "memberID": member_id, "type": "recharge", "amount": 100},
    )
    post(f"/api/members/{member_id}/earnings", {"amount": 50, "formId": "E1"})
    now = int(time.time() * 1000)
    aid = post(
        "/api/activities",
        {
            "name": "摇一摇",
            "start": now - 60_000,
            "end": now + 3_600_000,
            "points": 1,
            "prizes": [{"promotion_code": CASH, "lottery_chance": 50, "stock": 1000}],
        },
    )["aid"]
    withdrawals = [
        member.client.post("/m/api/withdrawals", json={"amount": 1}).json["withdrawal"]["id"]
        for _ in range(3)
    ]
    coupon = {"name": "满10减1", "kind": "minus", "threshold": 10, "value": 1, "stock": 1000}
    coupon_id = post("/api/coupons", {**coupon, "stackGrade": True, "stackPoints": True})[
        "couponId"
    ]
    item_id = post("/api/redemptions", {"name": "杯子", "points": 1, "stock": 1000})["itemId"]
    run = run_job(services, "grades")
    KNOWN.clear()
    KNOWN.update(
        {
            "memberID": member_id,
            "aid": aid,
            "withdrawalId": withdrawals,
            "runId": str(run["_id"]),
            "wxid": "oFuzzMember",
            "couponId": coupon_id,
            "itemId": item_id,
        }
    )
    app.fuzz_url = live_server_for(app).url
    KNOWN["cookie"] = member.client.get_cookie("wxmember_session").value
    guest = Member(app, "oFuzzGuest", sim)  # follows, has no card
    KNOWN["guest"] = guest.client.get_cookie("wxmember_session").value
    return app


def with_the_apps_own(case):
    """The real sessions (a bound member's, a guest's now and then); and in half the good
    cases the app's own ids for made-up ones."""
    params = case.path_parameters or {}
    body = case.body if isinstance(case.body, (dict, list, str, int, float)) else None
    choice = zlib.crc32(repr((sorted(params.items()), body)).encode())  # a failure replays
    if (case.cookies or {}).get("wxmember_session") == SESSION:
        case.cookies["wxmember_session"] = KNOWN["guest" if choice % 4 == 1 else "cookie"]
    known = {name: KNOWN[name] for name in params if KNOWN.get(name) is not None}
    positive = case.meta is not None and case.meta.generation.mode.name == "POSITIVE"
    if known and positive and choice % 2 == 0:
        for name, value in known.items():
            params[name] = value[choice % len(value)] if isinstance(value, list) else value


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)
def test_every_operation_answers_as_documented_and_never_5xx(case, fuzz_app):
    with_the_apps_own(case)
    case.call_and_validate(base_url=fuzz_app.fuzz_url)

"""Helpers to drive the in-process CRM simulator and a member's session."""

import re
import time

import requests

from tests.conftest import STAFF_TOKEN


class Sim:
    """The app's CRM simulator, reached over HTTP like any client would."""

    def __init__(self, app):
        self.url = app.extensions["wxmember"].crm_simulator.url

    def members(self):
        return requests.get(f"{self.url}/sim/members", timeout=5).json()

    def member(self, member_id):
        return next(m for m in self.members() if m["MEMBER_ID"] == member_id)

    def a_member(self, verified=True, index=0):
        found = [
            m for m in self.members() if m["MOBILE_CHECKED"] == verified and not m["WX_OPENID"]
        ]
        return found[index]

    def texts(self, mobile):
        return requests.get(f"{self.url}/sim/sms", params={"mobile": mobile}, timeout=5).json()

    def last_code(self, mobile):
        return re.search(r"\d{6}", self.texts(mobile)[-1]).group()

    def faults(self, **knobs):
        requests.post(f"{self.url}/sim/faults", json=knobs, timeout=5).raise_for_status()

    def change(self, member_id, **fields):
        requests.post(f"{self.url}/sim/members/{member_id}", json=fields, timeout=5)

    def touch(self, count):
        requests.post(f"{self.url}/sim/touch", params={"count": count}, timeout=30)


class Member:
    """A member's browser session on the H5 pages."""

    def __init__(self, app, openid, sim):
        self.app = app
        self.client = app.test_client()
        self.sim = sim
        self.openid = openid
        assert self.client.get(f"/m/dev/login?openid={openid}").status_code == 302

    def send_code(self, mobile=None, purpose=None):
        body = {"mobile": mobile} if mobile else {}
        if purpose:
            body["purpose"] = purpose
        return self.client.post("/m/api/sms", json=body)

    def bind(self, mobile, code=None, **extra):
        if code is None:
            assert self.send_code(mobile).status_code == 200
            code = self.sim.last_code(mobile)
        return self.client.post("/m/api/bind", json={"mobile": mobile, "code": code, **extra})

    def a_minute_later(self):
        """Forget the SMS send counters, as if the one-per-minute window had passed."""
        self.app.extensions["wxmember"].database["wxmember/rate_limits"].delete_many({})

    def unbind(self, mobile):
        self.a_minute_later()
        assert self.send_code(purpose="unbind").status_code == 200
        return self.client.post("/m/api/unbind", json={"code": self.sim.last_code(mobile)})

    def me(self):
        return self.client.get("/m/api/me").json


def create_activity(app, prizes, **fields):
    """A running shake activity made through the staff API; its ``aid``."""
    now = int(time.time() * 1000)
    body = {
        "name": "周末摇一摇",
        "start": now - 60_000,
        "end": now + 3_600_000,
        "points": 10,
        "cycle": "day",
        "limit": 0,
        "prizes": prizes,
        **fields,
    }
    headers = {"Authorization": f"Bearer {STAFF_TOKEN}"}
    response = app.test_client().post("/api/activities", json=body, headers=headers)
    assert response.status_code == 200, response.json
    return response.json["aid"]


def staff(app, method, path, body=None, status=200):
    """A call of the staff API with the machine token; its JSON, after checking the status."""
    headers = {"Authorization": f"Bearer {STAFF_TOKEN}"}
    response = app.test_client().open(path, method=method, json=body, headers=headers)
    assert response.status_code == status, (path, response.json)
    return response.json


def bound_member(app, openid, card=None, index=0):
    """A ``Member`` who bound ``card`` (else the simulator's ``index``-th free member) by SMS,
    with the CRM's opening points in; ``.card`` and ``.id`` (its member id) set."""
    sim = Sim(app)
    card = card or sim.a_member(index=index)
    member = Member(app, openid, sim)
    assert member.bind(card["MOBILE_TELEPHONE_NO"]).status_code == 200
    app.extensions["wxmember"].background.shutdown()
    member.card, member.id = card, card["MEMBER_ID"]
    return member

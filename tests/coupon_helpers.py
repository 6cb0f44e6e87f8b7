"""Helpers for the coupon, checkout and redemption tests: a staff caller, members with
sessions, coupon definitions, threads started together."""

import threading

from tests.conftest import STAFF_TOKEN
from tests.console_helpers import bind_member

AUTH = {"Authorization": f"Bearer {STAFF_TOKEN}"}
HOUR = 3_600_000
DAY = 24 * HOUR
NOW = 1_780_000_000_000  # 2026-05-28 ~04:26 Asia/Shanghai
MEMBER = 16426780


def app_at_now(make_app, clock):
    """An app whose one clock stands at ``NOW``, inside the test coupons' issuing window."""
    clock.set(NOW)
    return make_app(clock=clock)


class Staff:
    """The staff API with the machine token: ``(status, json)`` of each call."""

    def __init__(self, app):
        self.client = app.test_client()

    def __call__(self, method, path, body=None, headers=AUTH):
        response = self.client.open(path, method=method, json=body, headers=headers)
        return response.status_code, response.json

    def ok(self, method, path, body=None):
        status, answer = self(method, path, body)
        assert status == 200, (path, answer)
        return answer

    def coupon(self, **fields):
        """Define a coupon (a 满100减10 issuing now for a day unless told); its couponId."""
        return self.ok("POST", "/api/coupons", coupon_body(**fields))["couponId"]


def coupon_body(**fields):
    return {
        "name": "满100减10",
        "kind": "minus",
        "threshold": 100,
        "value": 10,
        "stock": 100,
        "perMember": 1,
        "start": NOW - HOUR,
        "end": NOW + DAY,
        "stackGrade": True,
        "stackPoints": True,
        **fields,
    }


class MemberSession:
    """A bound member signed in to the member pages (``/m/dev/login``)."""

    def __init__(self, app, member_id=MEMBER, openid=None, bound=True):
        self.member_id = member_id
        self.openid = openid or (f"o{member_id}" if bound else "oGuest")
        if bound:
            bind_member(app, self.openid, member_id, mobile=f"139{member_id % 10**8:08d}")
        self.client = app.test_client()
        assert self.client.get(f"/m/dev/login?openid={self.openid}").status_code == 302

    def __call__(self, method, path, body=None):
        response = self.client.open(path, method=method, json=body)
        return response.status_code, response.json

    def claim(self, coupon_id, **body):
        return self("POST", f"/m/api/coupons/{coupon_id}/claim", body or None)

    def coupons(self):
        status, answer = self("GET", "/m/api/coupons")
        assert status == 200, answer
        return answer["items"]


class Shop:
    """An app with the staff API and one bound member holding ``points``."""

    def __init__(self, app, points):
        self.app = app
        self.services = app.extensions["wxmember"]
        self.staff = Staff(app)
        self.member = MemberSession(app)
        self.give_points(MEMBER, points)

    def give_points(self, member_id, amount):
        body = {"amount": amount, "reason": "测试", "formId": f"P{member_id}"}
        self.staff.ok("POST", f"/api/members/{member_id}/points", body)

    def points(self, member_id=MEMBER):
        return self.services.members.points.balance(member_id)


def at_once(count, work):
    """Run ``work(n)`` in ``count`` threads started together; their results or errors."""
    barrier = threading.Barrier(count)
    results = [None] * count

    def run(n):
        barrier.wait()
        try:
            results[n] = work(n)
        except Exception as error:  # a refusal is a result here
            results[n] = error

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results

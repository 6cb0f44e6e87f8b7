"""Helpers for the staff console tests: staff accounts, a signed-in browser-like client."""

import re

from wxmember.staff.actor import cli_actor

PASSWORD = "correct-horse-battery"
CSRF = re.compile(r'name="csrf_token" value="([^"]*)"')
MEMBER = 16426780


def add_staff(app, username, role, password=PASSWORD):
    """Create (or update) a staff account; return it."""
    account, _ = app.extensions["wxmember"].staff.add(username, role, password, cli_actor())
    return account


def csrf_of(html):
    """The first CSRF token on a page."""
    found = CSRF.search(html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


def login(client, username, password=PASSWORD, next_page=""):
    """Fill and send the sign-in form as a browser would; return the answer."""
    page = client.get("/console/login")
    form = {
        "username": username,
        "password": password,
        "csrf_token": csrf_of(page.get_data(as_text=True)),
        "next": next_page,
    }
    return client.post("/console/login", data=form)


class Console:
    """A test client signed in to the console as one staff account."""

    def __init__(self, app, username, role):
        self.app = app
        self.account = add_staff(app, username, role)
        self.client = app.test_client()
        answer = login(self.client, username)
        assert answer.status_code == 302, answer.get_data(as_text=True)

    def get(self, path, **kwargs):
        return self.client.get(path, **kwargs)

    def csrf(self, path="/console"):
        return csrf_of(self.get(path).get_data(as_text=True))

    def post(self, path, data=None, csrf=True, page="/console"):
        """POST a form with the session's CSRF token (taken from ``page``) unless told not to."""
        data = dict(data or {})
        if csrf:
            data["csrf_token"] = self.csrf(page)
        return self.client.post(path, data=data)


def bind_member(app, openid="oMember", member_id=MEMBER, mobile="13912340000", card=None):
    """A bound customer, straight into the database (as a finished binding leaves it)."""
    card = card or f"V{member_id:010d}"
    app.extensions["wxmember"].records.customers.collection.insert_one(
        {
            "wechatid": openid,
            "isFollow": True,
            "followTime": 1_760_000_000,
            "nickname": "小明",
            "isRegister": True,
            "registerTime": 1_760_000_100_000,
            "mobile": mobile,
            "HaiLanMemberInfo": {
                "memberID": member_id,
                "memberCardNumber": card,
                "type": 2,
                "action": "bind",
            },
        }
    )
    return {"openid": openid, "member_id": member_id, "mobile": mobile, "card": card}

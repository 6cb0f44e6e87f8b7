"""Console sign-in: sessions that expire, CSRF on every form, limits, roles, cookies."""

import pytest

from tests.conftest import database_of
from tests.console_helpers import PASSWORD, Console, add_staff, login
from wxmember.staff.actor import cli_actor
from wxmember.web.console import auth


@pytest.mark.parametrize("path", ["/console", "/console/", "/console/logs", "/console/audit"])
def test_pages_lead_to_the_sign_in_page_without_a_session(client, path):
    answer = client.get(path)
    assert answer.status_code == 302
    assert answer.headers["Location"].startswith("/console/login?next=")


@pytest.mark.parametrize("path", ["/", "/admin"])
def test_the_root_and_admin_lead_to_the_console(client, path):
    assert client.get(path).headers["Location"] == "/console"


def test_the_sign_in_page_is_chinese_with_username_and_password_fields(client):
    html = client.get("/console/login").get_data(as_text=True)
    assert 'lang="zh-CN"' in html and "员工登录" in html
    assert 'name="username"' in html and 'name="password"' in html


def test_signing_in_opens_the_console_and_returns_to_the_page_asked_for(app, client):
    add_staff(app, "adam", "admin")
    answer = login(client, "adam", next_page="/console/logs?action=text")
    assert answer.headers["Location"] == "/console/logs?action=text"
    home = client.get("/console").get_data(as_text=True)
    assert "adam" in home and "管理员" in home


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/m/bind", "/x"])
def test_sign_in_never_sends_staff_off_the_console(app, client, target):
    add_staff(app, "adam", "admin")
    assert login(client, "adam", next_page=target).headers["Location"] == "/console"


def test_a_wrong_password_is_refused_in_chinese(app, client):
    add_staff(app, "adam", "admin")
    answer = login(client, "adam", "not-the-password")
    assert answer.status_code == 401
    assert "用户名或密码错误" in answer.get_data(as_text=True)
    assert client.get("/console").status_code == 302


def test_the_sign_in_form_needs_its_csrf_token(app, client):
    add_staff(app, "adam", "admin")
    client.get("/console/login")
    answer = client.post(
        "/console/login", data={"username": "adam", "password": PASSWORD, "csrf_token": "forged"}
    )
    assert answer.status_code == 400
    assert client.get("/console").status_code == 302


def test_sign_in_is_limited_per_username_after_five_failures(app, client):
    add_staff(app, "adam", "admin")
    for _ in range(5):
        assert login(client, "adam", "wrong-password").status_code == 401
    limited = login(client, "adam")  # even the right password
    assert limited.status_code == 429
    assert "登录失败次数过多" in limited.get_data(as_text=True)
    add_staff(app, "bea", "viewer")
    assert login(client, "bea").status_code == 302  # another username is not limited


def test_successful_sign_ins_do_not_count_against_the_limit(app, client):
    add_staff(app, "adam", "admin")
    for _ in range(8):
        assert login(app.test_client(), "adam").status_code == 302


def test_sign_in_is_limited_per_address(app, client, monkeypatch):
    monkeypatch.setattr(auth, "ADDRESS_LIMIT", 3)
    add_staff(app, "adam", "admin")
    for name in ("u1", "u2", "u3"):
        assert login(client, name, "wrong-password").status_code == 401
    assert login(client, "adam").status_code == 429


def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(app, admin):
    before = database_of(app)["wxmember/staff_sessions"].count_documents({})
    refused = admin.post("/console/logout", csrf=False)
    assert refused.status_code == 400
    assert "刷新页面" in refused.get_data(as_text=True)
    assert database_of(app)["wxmember/staff_sessions"].count_documents({}) == before
    assert admin.get("/console").status_code == 200
    assert admin.client.post("/console/logout", data={"csrf_token": "x" * 43}).status_code == 400


def test_the_csrf_token_may_come_as_a_header(admin):
    answer = admin.client.post("/console/logout", headers={"X-CSRF-Token": admin.csrf()})
    assert answer.status_code == 302


def test_sign_out_ends_the_session(app, admin):
    assert admin.post("/console/logout").headers["Location"] == "/console/login"
    assert admin.get("/console").status_code == 302
    assert database_of(app)["wxmember/staff_sessions"].count_documents({}) == 0


def test_a_session_ends_after_the_idle_time(make_app, clock):
    app = make_app(clock=clock)  # starts at the real time: the TTL index keeps the session
    sessions = app.extensions["wxmember"].staff.sessions
    fresh = Console(app, "idle", "viewer")
    clock.advance(sessions.idle_ms - 120_000)  # used shortly before the end: kept alive
    assert fresh.get("/console").status_code == 200
    clock.advance(sessions.idle_ms - 1000)
    assert fresh.get("/console").status_code == 200
    clock.advance(sessions.idle_ms)
    assert fresh.get("/console").status_code == 302


def test_a_session_ends_after_the_absolute_time_however_busy(make_app, clock):
    app = make_app(clock=clock)
    start = clock.now_ms()
    sessions = app.extensions["wxmember"].staff.sessions
    busy = Console(app, "busy", "viewer")
    while clock.now_ms() < start + sessions.absolute_ms - sessions.idle_ms:
        clock.advance(sessions.idle_ms // 2)
        assert busy.get("/console").status_code == 200
    clock.set(start + sessions.absolute_ms)
    assert busy.get("/console").status_code == 302


def test_session_lengths_come_from_the_config(make_app):
    app = make_app(console={"session_idle_minutes": 5, "session_hours": 1})
    sessions = app.extensions["wxmember"].staff.sessions
    assert (sessions.idle_ms, sessions.absolute_ms) == (300_000, 3_600_000)


def test_disabling_an_account_or_changing_its_password_ends_its_sessions(app):
    staff = app.extensions["wxmember"].staff
    alice = Console(app, "alice", "operator")
    staff.add("alice", "operator", "a-new-password", cli_actor())
    assert alice.get("/console").status_code == 302
    bob = Console(app, "bob", "operator")
    staff.disable("bob", cli_actor())
    assert bob.get("/console").status_code == 302


def test_a_role_change_applies_at_the_next_request(app):
    alice = Console(app, "alice", "admin")
    assert alice.get("/console/audit").status_code == 200
    database_of(app)["wxmember/staff"].update_one({"_id": "alice"}, {"$set": {"role": "viewer"}})
    assert alice.get("/console/audit").status_code == 403


def test_the_cookie_is_httponly_on_the_console_path_and_secure_outside_embedded(
    app, client, monkeypatch
):
    add_staff(app, "adam", "admin")
    cookie = login(client, "adam").headers["Set-Cookie"]
    assert "wxmember_console=" in cookie and "HttpOnly" in cookie and "Path=/console" in cookie
    assert "SameSite=Lax" in cookie and "Secure" not in cookie  # the embedded default: http
    monkeypatch.setattr(auth, "is_embedded", lambda config: False)
    other = app.test_client()
    assert "Secure" in login(other, "adam").headers["Set-Cookie"]


def test_the_member_session_and_the_staff_session_never_mix(app, admin):
    """A member's sign-in (which clears the Flask session) leaves the staff signed in, and back."""
    assert admin.get("/m/dev/login?openid=oMember").status_code == 302
    assert admin.get("/console").status_code == 200
    with admin.client.session_transaction() as flask_session:
        assert "openid" in flask_session
        assert not any(key.startswith(("staff", "console")) for key in flask_session)
    assert admin.post("/console/logout").status_code == 302
    with admin.client.session_transaction() as flask_session:
        assert flask_session["openid"] == "oMember"


def test_every_console_view_names_the_role_it_needs(app):
    open_views = {"console.login", "console.static"}
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("console.") and rule.endpoint not in open_views:
            view = app.view_functions[rule.endpoint]
            assert getattr(view, "required_role", None), rule.endpoint


def test_console_pages_are_not_cached_or_framed_and_load_only_our_files(admin):
    answer = admin.get("/console")
    assert answer.headers["Cache-Control"] == "no-store"
    assert answer.headers["X-Frame-Options"] == "DENY"
    assert "default-src 'self'" in answer.headers["Content-Security-Policy"]
    html = answer.get_data(as_text=True)
    assert "http://" not in html and "https://" not in html
    assert admin.get("/console/static/console.css").status_code == 200


def test_wechat_and_the_api_need_no_csrf_token(app, client):
    from tests.conftest import STAFF_TOKEN

    grade = {"level": 1, "name": "普通会员", "discount": 1}
    headers = {"Authorization": f"Bearer {STAFF_TOKEN}"}
    assert client.post("/api/grades", json=grade, headers=headers).status_code == 200

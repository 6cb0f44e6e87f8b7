"""Member pages learn who the member is from WeChat OAuth (replaced at its HTTP boundary)."""

from urllib.parse import parse_qs, urlsplit

import pytest


@pytest.fixture
def oauth_app(make_app, wechat_api):
    return make_app(
        wechat={
            "appsecret": "app-secret",
            "api_base_url": wechat_api.base_url,
            "sns_base_url": wechat_api.sns_base_url,
        }
    )


def _start(client):
    """Open the bind page without a session; return the state WeChat is asked to echo."""
    page = client.get("/m/bind")
    assert page.status_code == 302 and page.location.startswith("/m/oauth/start")
    authorize = client.get(page.location)
    assert authorize.status_code == 302
    url = urlsplit(authorize.location)
    assert url.netloc == "open.weixin.qq.com" and url.fragment == "wechat_redirect"
    query = parse_qs(url.query)
    assert query["scope"] == ["snsapi_base"] and query["appid"] == ["wx1234567890abcdef"]
    assert query["redirect_uri"][0].endswith("/m/oauth/callback")
    return query["state"][0]


def test_oauth_opens_the_session_for_the_openid_wechat_names(oauth_app, wechat_api):
    client = oauth_app.test_client()
    state = _start(client)
    wechat_api.oauth_codes["code-1"] = "oFromOAuth"

    callback = client.get(f"/m/oauth/callback?code=code-1&state={state}")

    assert callback.status_code == 302 and callback.location == "/m/bind"
    me = client.get("/m/api/me").json
    assert me["ok"] is True and me["bound"] is False
    page = client.get("/m/bind")
    assert page.status_code == 200 and "绑定会员卡" in page.get_data(as_text=True)


def test_callback_with_a_foreign_state_is_refused(oauth_app, wechat_api):
    client = oauth_app.test_client()
    _start(client)
    wechat_api.oauth_codes["code-2"] = "oFromOAuth"
    response = client.get("/m/oauth/callback?code=code-2&state=forged")
    assert (response.status_code, response.json["error"]) == (400, "oauth_state")
    assert client.get("/m/api/me").status_code == 401


def test_code_wechat_refuses_opens_no_session(oauth_app):
    client = oauth_app.test_client()
    state = _start(client)
    response = client.get(f"/m/oauth/callback?code=unknown&state={state}")
    assert (response.status_code, response.json["error"]) == (502, "oauth_failed")
    assert client.get("/m/api/me").status_code == 401


def test_without_appsecret_the_page_says_to_open_it_in_wechat(make_app):
    response = make_app().test_client().get("/m/bind")
    assert response.status_code == 401
    assert "请在微信中打开" in response.get_data(as_text=True)


# ``next=`` after login: only a page of ours under /m/, never elsewhere. Each target is what
# the app reads from the query (the test client encodes it), so "%2F%2Fevil" is a link whose
# next was encoded twice, and "/m/%2e%2e/..." one that a browser would read as "/m/../...".
OFF_SITE = [
    "https://evil.example/",
    "http://evil.example",
    "HTTPS://EVIL.EXAMPLE",
    "//evil.example",
    "//evil.example/m/bind",
    "///evil.example",
    "/\\evil.example",
    "\\/evil.example",
    "\\\\evil",
    "/m/\\/evil.example",
    "http:evil",
    "http:/evil.example",
    "https:evil.example",
    "https:%2F%2Fevil.example",
    "%2F%2Fevil",
    "%2f%2fevil.example",
    "%5C%5Cevil",
    "/%5Cevil.example",
    "/%2F/evil.example",
    " //evil.example",
    "\t//evil.example",
    "/\t/evil.example",
    "/m/@evil.example",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    " javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "/m/../admin",
    "/m/%2e%2e/%2e%2e//evil.example",
    "/m/%2E%2E/api/logs",
    "/m/.%2e/api/logs",
    "/m/%2e./api/logs",
    "/m/shake\r\nSet-Cookie: wxmember_session=forged",
    "/m/shake%0d%0aSet-Cookie:x",
    "/api/logs",
    "/mx/shake",
    "m/shake",
    "",
]
MEMBER_PAGES = ["/m/shake", "/m/bind", "/m/shake?tab=prizes"]


def _login(make_app, target):
    client = make_app().test_client()
    return client.get("/m/dev/login", query_string={"openid": "oNext", "next": target})


def _oauth_login(oauth_app, wechat_api, target, client=None):
    """Start WeChat's OAuth with ``next``, come back with a code: the redirect after login."""
    client = client or oauth_app.test_client()
    authorize = client.get("/m/oauth/start", query_string={"next": target})
    assert urlsplit(authorize.location).netloc == "open.weixin.qq.com"
    state = parse_qs(urlsplit(authorize.location).query)["state"][0]
    wechat_api.oauth_codes["code-next"] = "oNext"
    return client.get("/m/oauth/callback", query_string={"code": "code-next", "state": state})


@pytest.mark.parametrize("target", OFF_SITE)
def test_next_after_login_is_only_a_member_page_of_ours(make_app, target):
    response = _login(make_app, target)
    assert response.status_code == 302
    assert response.location == "/m/"  # the member center, never the given target
    assert "Set-Cookie: wxmember_session=forged" not in str(response.headers)


@pytest.mark.parametrize("target", OFF_SITE)
def test_next_after_wechat_oauth_is_only_a_member_page_of_ours(oauth_app, wechat_api, target):
    response = _oauth_login(oauth_app, wechat_api, target)
    assert (response.status_code, response.location) == (302, "/m/")
    assert "Set-Cookie: wxmember_session=forged" not in str(response.headers)


@pytest.mark.parametrize(
    ("query", "location"),
    [
        ("next=//evil.example", "/m/"),
        ("next=/\\evil.example", "/m/"),
        ("next=%2F%2Fevil.example", "/m/"),
        ("next=%252F%252Fevil.example", "/m/"),
        ("next=https%3A%2F%2Fevil.example", "/m/"),
        ("next=/m/%2e%2e/%2e%2e//evil.example", "/m/"),
        ("next=/m/%252e%252e/%252e%252e//evil.example", "/m/"),
        ("next=//evil.example&next=/m/shake", "/m/"),  # the first one counts
        ("next=/m/shake&next=//evil.example", "/m/shake"),
        ("next=%2Fm%2Fshake", "/m/shake"),
    ],
)
def test_next_written_into_the_link_by_hand_stays_ours(make_app, query, location):
    """The query as an attacker types it into a link, encoded once, twice or not at all."""
    client = make_app().test_client()
    response = client.get(f"/m/dev/login?openid=oNext&{query}")
    assert (response.status_code, response.location) == (302, location)


@pytest.mark.parametrize("target", MEMBER_PAGES)
def test_next_after_login_keeps_a_member_page(make_app, target):
    response = _login(make_app, target)
    assert (response.status_code, response.location) == (302, target)


@pytest.mark.parametrize("target", MEMBER_PAGES)
def test_next_after_wechat_oauth_keeps_a_member_page(oauth_app, wechat_api, target):
    client = oauth_app.test_client()
    response = _oauth_login(oauth_app, wechat_api, target, client)
    assert (response.status_code, response.location) == (302, target)
    assert client.get("/m/api/me").json["ok"] is True  # logged in, then sent there


@pytest.mark.parametrize(
    ("remote", "headers"),
    [("203.0.113.9", {}), ("127.0.0.1", {"X-Forwarded-For": "203.0.113.9"})],
    ids=["remote", "proxied"],
)
def test_the_dev_login_and_dev_token_answer_only_this_machine(make_app, remote, headers):
    app = make_app(console={"api_token": "dev-token-change-me"})
    client = app.test_client()
    environ = {"REMOTE_ADDR": remote}
    login = client.get("/m/dev/login?openid=oOutsider", environ_base=environ, headers=headers)
    assert login.status_code == 404
    staff = client.get(
        "/api/logs",
        environ_base=environ,
        headers={**headers, "Authorization": "Bearer dev-token-change-me"},
    )
    assert staff.status_code == 401
    local = client.get("/api/logs", headers={"Authorization": "Bearer dev-token-change-me"})
    assert local.status_code == 200  # on this machine they still work

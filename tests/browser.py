"""Debian's Chromium driven by Playwright, for the tests of pages (mark them ``browser``).

Skipped without /usr/bin/chromium or playwright, unless WXMEMBER_REQUIRE_BROWSER is set
(as CI does): then a missing browser fails the test. ``member_phone`` opens the member
pages as WeChat on a phone does (390×844); ``shots`` photographs a page
(``WXMEMBER_SCREENSHOTS=DIR`` keeps the pictures to look at).
"""

import os
import shutil

import pytest

CHROMIUM = "/usr/bin/chromium"
PHONE = {"width": 390, "height": 844}
WECHAT_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.47(0x18002f2c) NetType/WIFI"
)
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


def sync_playwright():
    """Playwright's entry point, or a skip (a failure under WXMEMBER_REQUIRE_BROWSER)."""
    try:
        from playwright.sync_api import sync_playwright as entry
    except ImportError:
        entry = None
    if entry is None or not shutil.which(CHROMIUM):
        if os.environ.get("WXMEMBER_REQUIRE_BROWSER"):
            pytest.fail("Chromium or playwright is missing but WXMEMBER_REQUIRE_BROWSER is set")
        pytest.skip("needs /usr/bin/chromium and playwright")
    return entry


@pytest.fixture
def browser():
    """A headless Chromium for the test, closed after it."""
    with sync_playwright()() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture
def member_phone(browser):
    """``member_phone(base_url, openid, path="/m/")``: a page in a phone's WeChat, signed in as
    ``openid`` (``/m/dev/login``) and on ``path``."""
    contexts = []

    def open_as(base_url, openid, path="/m/"):
        context = browser.new_context(
            viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True, user_agent=WECHAT_UA
        )
        contexts.append(context)
        page = context.new_page()
        page.goto(f"{base_url}/m/dev/login?openid={openid}&next={path}")
        return page

    yield open_as
    for context in contexts:
        context.close()


@pytest.fixture
def shots(tmp_path):
    """``shots(page, name)``: the whole page as ``name.png`` (in ``WXMEMBER_SCREENSHOTS`` when
    set), after checking nothing is wider than the phone."""
    folder = os.environ.get("WXMEMBER_SCREENSHOTS") or str(tmp_path)
    os.makedirs(folder, exist_ok=True)

    def shoot(page, name):
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], name
        page.screenshot(path=os.path.join(folder, f"{name}.png"), full_page=True)

    return shoot

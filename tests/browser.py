"""Debian's Chromium driven by Playwright, for the tests of pages (mark them ``browser``).

Skipped without /usr/bin/chromium or playwright, unless WXMEMBER_REQUIRE_BROWSER is set
(as CI does): then a missing browser fails the test.
"""

import os
import shutil

import pytest

CHROMIUM = "/usr/bin/chromium"
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

"""The browser tests' one Chromium (Debian's, /usr/bin/chromium): a browser per test module
and a fresh 1280 x 900 page per test. A module that needs other pages builds its own from
`browser`."""

import os
from pathlib import Path

import pytest

from tests.conftest import need_service

CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="module")
def browser():
    need_service(CHROMIUM.exists(), "Debian's chromium (/usr/bin/chromium)")
    # Playwright's sync API runs an event loop in this thread; the tests' ORM calls are plain
    # synchronous ones, so Django's async-safety guard is relaxed while the browser is up.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        yield chromium
        chromium.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    yield context.new_page()
    context.close()

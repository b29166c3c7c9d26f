"""The operator's admin in Debian's Chromium: a superuser's save goes through the CSRF check
(the admin's pages carry the same-origin referrer meta the platform's own pages carry)."""

import os
import re
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model

from tests.conftest import need_service

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def browser():
    need_service(CHROMIUM.exists(), "Debian's chromium (/usr/bin/chromium)")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # sync ORM calls beside Playwright's loop
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        yield chromium
        chromium.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


def test_a_superuser_signs_in_to_the_admin_and_saves_a_user(browser, live_server):
    users = get_user_model().objects
    users.create_superuser(username="root", password="root-pw-123456")
    olga = users.create_user(username="olga", password="olga-pw-123")
    page = browser.new_context().new_page()
    page.goto(f"{live_server.url}/admin/")
    page.fill("[name='username']", "root")
    page.fill("[name='password']", "root-pw-123456")
    page.click("[type='submit']")
    page.wait_for_url(re.compile(r"/admin/$"))
    page.goto(f"{live_server.url}/admin/auth/user/{olga.pk}/change/")
    page.fill("[name='first_name']", "Olga")
    page.click("[name='_save']")
    page.wait_for_url(re.compile(r"/admin/auth/user/$"))
    assert "was changed successfully" in page.content()
    olga.refresh_from_db()
    assert olga.first_name == "Olga"

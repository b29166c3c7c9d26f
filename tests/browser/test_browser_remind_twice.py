"""In Chromium: an organizer clicks "Remind those who have not submitted", the page comes back,
and they click again a few seconds later; each expert gets one reminder."""

import os
import re
from pathlib import Path

import pytest

from surveys.services.panel import expert_issue_token
from tests.conftest import need_service
from workspace.models import Message

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def page():
    need_service(CHROMIUM.exists(), "Debian's chromium (/usr/bin/chromium)")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # sync ORM calls beside Playwright's loop
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        yield chromium.new_context(viewport={"width": 1280, "height": 900}).new_page()
        chromium.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


def test_clicking_remind_twice_sends_each_expert_one_reminder(
        page, live_server, round1, organizer, alice, bob):
    for expert in (alice, bob):
        expert_issue_token(expert=expert)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("[name='username']", organizer.username)
    page.fill("[name='password']", f"{organizer.username}-pw-123")
    page.press("[name='password']", "Enter")
    page.wait_for_url(re.compile(r"/$"))
    page.goto(f"{live_server.url}/studio/{round1.study.slug}/panel/")
    remind = "button:has-text('Remind those who have not submitted')"
    page.click(remind)
    page.wait_for_selector(".ws-messages .notice")
    with page.expect_navigation():
        page.click(remind)  # the page came back with a fresh form

    reminders = Message.objects.filter(kind=Message.Kind.REMINDER)
    assert sorted(reminders.values_list("to_email", flat=True)) == [
        "alice@example.org", "bob@example.org"]
    assert "went out 0 minute(s) ago" in page.inner_text(".ws-messages")

"""In Chromium: an organizer clicks "Remind those who have not submitted", the page comes back,
and they click again a few seconds later; each expert gets one reminder."""

import re

import pytest

from surveys.services.panel import expert_issue_token
from workspace.models import Message

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


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

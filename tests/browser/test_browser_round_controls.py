"""In Chromium: closing a round asks first (a dialog with JavaScript, a page without), and the
outbox shows the invitation as the expert received it."""

import re

import pytest
from playwright.sync_api import expect

from surveys.models import Round
from tests.conftest import ROOT, wait_for
from workspace.models import OutboxMessage
from workspace.services import mail

ARTIFACTS = ROOT / "test-artifacts"
AXE = ROOT / "tests" / "vendor" / "axe-4.14.1.min.js"
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _signed_in(browser, live_server, user, **options):
    page = browser.new_context(viewport={"width": 1280, "height": 900}, **options).new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("[name='username']", user.username)
    page.fill("[name='password']", f"{user.username}-pw-123")
    page.press("[name='password']", "Enter")
    page.wait_for_url(re.compile(r"/$"))
    return page


def _serious_violations(page) -> list[dict]:
    """axe-core's serious or critical WCAG 2.1 AA violations on the page as it stands."""
    page.evaluate(AXE.read_text())  # through the devtools protocol: the page's CSP stays on
    found = page.evaluate("""async () => {
        const r = await axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']});
        return r.violations.map(v => ({id: v.id, impact: v.impact, n: v.nodes.length}));
    }""")
    return [v for v in found if v["impact"] in {"serious", "critical"}]


def _status(round_) -> str:
    return Round.objects.get(pk=round_.pk).status


def test_closing_a_round_asks_in_a_dialog_and_cancel_changes_nothing(
        browser, live_server, round1, organizer, alice):
    page = _signed_in(browser, live_server, organizer)
    page.goto(f"{live_server.url}/studio/{round1.study.slug}/rounds/")

    page.click("button:has-text('Close the round now')")
    dialog = page.locator("dialog.ws-dialog")
    assert dialog.is_visible()
    assert "Close round 1 now?" in dialog.inner_text()
    assert "Submitted so far: 0 of 1 expert" in dialog.inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "round-close-dialog-1280.png"))
    assert _serious_violations(page) == []
    dialog.locator("button", has_text="Cancel").click()
    expect(page.locator("dialog.ws-dialog")).to_have_count(0)  # waits for the dialog to go
    assert _status(round1) == Round.Status.OPEN

    page.click("button:has-text('Close the round now')")
    with page.expect_navigation():
        page.locator("dialog.ws-dialog button", has_text="Close round 1 now").click()
    assert "Round 1 closed at" in page.inner_text(".ws-messages")
    assert _status(round1) != Round.Status.OPEN
    assert "Closed at" in page.inner_text("#round-1")


def test_without_javascript_closing_shows_a_confirmation_page(
        browser, live_server, round1, organizer):
    page = _signed_in(browser, live_server, organizer, java_script_enabled=False)
    page.goto(f"{live_server.url}/studio/{round1.study.slug}/rounds/")

    page.click("button:has-text('Close the round now')")
    assert page.inner_text("h1") == "Close round 1 now?"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "round-close-page-1280.png"))
    assert "This cannot be undone." in page.inner_text("main")
    assert _status(round1) == Round.Status.OPEN
    page.click("button:has-text('Close round 1 now')")
    assert "Round 1 closed at" in page.inner_text(".ws-messages")
    assert _status(round1) != Round.Status.OPEN


def test_the_outbox_shows_a_sent_invitation(browser, live_server, study, organizer, alice, bob,
                                            celery_worker):
    mail.invitations_send(study=study, actor=organizer)  # sent once this commits
    # In-process the two are sent at once; with the real worker they follow.
    wait_for(lambda: OutboxMessage.objects.filter(study=study).count() == 2,
             what="the two invitations in the outbox")
    page = _signed_in(browser, live_server, organizer)
    page.goto(f"{live_server.url}/studio/{study.slug}/panel/")
    page.click("text=Read the messages as the experts received them (outbox)")

    alices = page.locator("article.ws-outbox", has_text="alice@example.org")
    assert "Invitation to the expert panel: Small study" in alices.inner_text()
    assert re.search(r"/e/[\w-]{40,}/", alices.locator(".ws-outbox-body").inner_text())
    bobs = page.locator("article.ws-outbox[lang='ru']", has_text="bob@example.org")
    assert "Приглашение" in bobs.locator(".ws-outbox-subject").inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "outbox-1280.png"), full_page=True)
    assert _serious_violations(page) == []
    page.set_viewport_size({"width": 375, "height": 800})
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.screenshot(path=str(ARTIFACTS / "outbox-375.png"), full_page=True)

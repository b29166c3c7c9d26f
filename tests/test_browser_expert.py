"""The expert's whole loop in Debian's Chromium: link, answer, save, reload, submit, feedback."""

import os
import re
from pathlib import Path

import pytest
from conftest import ROOT, need_service

from surveys.models import Response
from surveys.services.panel import expert_issue_token
from surveys.services.responses import ItemAnswer, response_submit
from surveys.services.rounds import round_close, round_create, round_open

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts"
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def browser():
    need_service(CHROMIUM.exists(), "Debian's chromium (/usr/bin/chromium)")
    # Playwright's sync API runs an event loop in this thread; the ORM calls in the tests are
    # plain synchronous ones, so Django's async-safety guard is relaxed for this module only.
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
    page = context.new_page()
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.dialogs = dialogs
    yield page
    context.close()


def test_expert_answers_saves_reloads_and_submits_round_one(page, live_server, round1, alice):
    token = expert_issue_token(expert=alice)
    page.goto(f"{live_server.url}/e/{token}/")
    assert page.url == f"{live_server.url}/q/"  # the token is gone from the address
    page.get_by_role("group", name=re.compile("agree")).first.get_by_label("Agree", exact=True).check()
    page.get_by_label("Probability, % (0-100)").fill("35")
    page.get_by_label("Year (2011-2100)").fill("2030")
    for option, place in (("Option A", "2"), ("Option B", "1"), ("Option C", "3")):
        page.get_by_label(option).select_option(place)
    page.locator("textarea[name='a-agree.why']").fill("Because <b>reasons</b>")
    page.get_by_role("button", name="Save draft").click()
    page.wait_for_url(re.compile(r"saved=1"))
    page.reload()
    assert page.locator("input[name='a-agree'][value='4']").is_checked()
    assert page.get_by_label("Probability, % (0-100)").input_value() == "35"
    assert page.get_by_label("Option B").input_value() == "1"
    assert page.locator("textarea[name='a-agree.why']").input_value() == "Because <b>reasons</b>"
    page.screenshot(path=str(ARTIFACTS / "questionnaire-round1-1280.png"), full_page=True)
    page.get_by_role("button", name="Submit answers").click()
    page.wait_for_url(re.compile(r"submitted=1"))
    assert Response.objects.get(expert=alice, round=round1).status == "submitted"
    assert page.dialogs == []


def test_expert_sees_feedback_with_own_previous_answer_in_russian(
    page, live_server, round1, alice, bob, django_capture_on_commit_callbacks
):
    response_submit(expert=alice, round_=round1, answers={
        "agree": ItemAnswer(values={"": 2}, rationale="<script>alert('x')</script>")})
    response_submit(expert=bob, round_=round1, answers={"agree": ItemAnswer(values={"": 5})})
    with django_capture_on_commit_callbacks(execute=True):
        round_close(round_=round1)
    from surveys.services.aggregation import round_aggregate

    round_aggregate(round_id=round1.pk)  # in-process here; the worker path is tested elsewhere
    round_open(round_=round_create(study=round1.study))
    token = expert_issue_token(expert=bob)
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(f"{live_server.url}/e/{token}/")
    assert page.locator("html").get_attribute("lang") == "ru"
    feedback = page.locator("#item-agree .feedback")
    assert "n = 2" in feedback.inner_text()
    assert feedback.locator("rect.bar.own").count() == 1  # bob's own previous answer (5)
    page.locator("#item-agree summary").click()
    assert "<script>alert('x')</script>" in page.locator("#item-agree .rationales").inner_text()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, "no horizontal scrolling on a phone"
    page.screenshot(path=str(ARTIFACTS / "questionnaire-round2-375-ru.png"), full_page=True)
    assert page.dialogs == []

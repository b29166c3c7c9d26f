"""The organizer's workspace in Debian's Chromium: build a small study, invite two experts, open
round 1, and watch the dashboard move (without a reload) as they answer."""

import re

import pytest
from django.contrib.auth import get_user_model

from surveys.models import Study
from surveys.services.panel import expert_issue_token
from tests.conftest import ROOT, wait_for
from workspace.models import Message

ARTIFACTS = ROOT / "test-artifacts"
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _fill(page, fields: dict) -> None:
    for name, value in fields.items():
        page.fill(f"[name='{name}']", value)


def study_round_status() -> str:
    return Study.objects.get(slug="browser-study").rounds.get(number=1).status


def _submitted(page, group: str) -> str:
    return page.locator(f"#live tr[data-group='{group}'] .ws-submitted").inner_text()


def test_organizer_builds_invites_opens_and_watches_the_dashboard_move(
        browser, live_server, celery_worker):
    get_user_model().objects.create_user(username="olga", password="olga-pw-123")
    org = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    errors = []
    org.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    org.goto(f"{live_server.url}/accounts/login/")
    _fill(org, {"username": "olga", "password": "olga-pw-123"})
    org.press("[name='password']", "Enter")
    org.wait_for_url(re.compile(r"/$"))
    org.goto(f"{live_server.url}/studio/")
    _fill(org, {"slug": "browser-study", "title_en": "Browser study", "title_ru": "Исследование"})
    org.click("text=Create the study")
    org.wait_for_url(re.compile(r"/build/$"))
    for code, en, ru in (("RU", "Russia", "Россия"), ("US", "United States", "США")):
        _fill(org, {"code": code, "name_en": en, "name_ru": ru})
        org.click("text=Save the group")
    org.locator("form[action$='/build/theme/']").locator("[name='code']").fill("main")
    _fill(org, {"title_en": "Main", "title_ru": "Главное"})
    org.click("text=Save the theme")
    org.click("text=Add an item")
    org.select_option("[name='kind']", "agreement")
    _fill(org, {"code": "q1", "text_en": "Missile defence should be joint.",
                "text_ru": "ПРО должна быть совместной."})
    org.click("text=Save the item")
    org.goto(f"{live_server.url}/studio/browser-study/rules/")
    org.click("button:has-text('Register the rules')")
    org.wait_for_selector(".ws-messages .notice")
    org.goto(f"{live_server.url}/studio/browser-study/panel/")
    for name, group in (("Ann", "RU"), ("Ben", "US")):
        _fill(org, {"name": name, "email": f"{name.lower()}@example.org"})
        org.select_option("[name='group']", group)
        org.check("[name='invite']")
        org.click("form.ws-box button.primary")
    wait_for(lambda: Message.objects.filter(status="sent").count() == 2, what="two invitations")
    org.goto(f"{live_server.url}/studio/browser-study/rounds/")
    org.click("text=Create round 1 as a draft")
    org.click("text=Open (or schedule) the round")
    dialog = org.locator("dialog.ws-dialog")  # it asks first, saying whom it will email
    assert "2 experts holding a personal link are emailed" in dialog.inner_text()
    with org.expect_navigation():
        dialog.locator("button", has_text="Open round 1").click()
    assert "2 experts are told by email" in org.inner_text(".ws-messages")
    org.screenshot(path=str(ARTIFACTS / "workspace-rounds-1280.png"), full_page=True)
    assert study_round_status() == "open", org.locator(".ws-messages").inner_text()
    org.goto(f"{live_server.url}/studio/browser-study/")
    assert (_submitted(org, "RU"), _submitted(org, "all")) == ("0", "0")
    org.screenshot(path=str(ARTIFACTS / "workspace-dashboard-before-1280.png"), full_page=True)

    study = Study.objects.get(slug="browser-study")
    expected = {"RU": "1", "all": "1"}
    for expert in study.experts.order_by("name"):
        answer = browser.new_context().new_page()
        answer.goto(f"{live_server.url}/e/{expert_issue_token(expert=expert)}/")
        answer.check("input[name='a-q1'][value='4']")
        answer.click("button[value='submit']")
        answer.wait_for_url(re.compile(r"submitted=1"))
        answer.context.close()
        # The dashboard polls every 5 s: the count changes without a reload.
        org.wait_for_function(
            "([g, n]) => document.querySelector(`#live tr[data-group='${g}'] .ws-submitted`)"
            ".textContent === n", arg=["all", expected["all"]], timeout=15000)
        assert _submitted(org, expert.group.code) == "1"
        expected = {"all": "2"}
    org.screenshot(path=str(ARTIFACTS / "workspace-dashboard-after-1280.png"), full_page=True)
    assert not [e for e in errors if "Content Security Policy" in e]

"""The study's frame in Debian's Chromium: rename a group, refuse and then delete a theme, give a
colleague a role, and take a Real-Time snapshot from the dashboard (plain forms, no script)."""

import re

import pytest
from django.contrib.auth import get_user_model

from surveys.models import AuditEvent, Round, StakeholderGroup, StudyMember, Theme
from surveys.services.panel import member_add
from surveys.services.rounds import round_create
from surveys.services.studies import study_load
from tests.browser.test_browser_workspace import ARTIFACTS, _fill
from tests.conftest import small_study_data
from tests.workspace_helpers import make_experts, register_rules, submit
from workspace.services.rounds import round_start

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _login(browser, live_server, username: str):  # noqa: F811 - the fixture's value
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{live_server.url}/accounts/login/")
    _fill(page, {"username": username, "password": f"{username}-pw-123"})
    page.press("[name='password']", "Enter")
    page.wait_for_url(re.compile(r"/$"))
    return page, errors


def test_owner_renames_deletes_gives_a_role_and_takes_a_snapshot(
        browser, live_server, celery_worker):  # noqa: F811
    owner = get_user_model().objects.create_user(username="wendy", password="wendy-pw-123")
    get_user_model().objects.create_user(username="carl", password="carl-pw-123")
    study = study_load(data=small_study_data("frame") | {"mode": "realtime", "min_cell": 1})
    member_add(study=study, user=owner, role="owner")
    Theme.objects.create(study=study, code="spare", title_en="Spare", title_ru="Запас",
                         position=2)
    register_rules(study, owner)
    live = round_start(round_=round_create(study=study, items=[study.items.get(code="agree")]),
                       actor=owner)
    [expert] = make_experts(study, [("Ann", "RU", "en")])
    submit(expert, live, agree=4)
    page, errors = _login(browser, live_server, "wendy")
    base = f"{live_server.url}/studio/frame"

    page.goto(f"{base}/build/")
    row = page.locator("#group-RU")
    row.locator("summary").click()
    row.locator("[name='rename-name_en']").fill("Russia (RF)")
    row.locator("button:has-text('Rename')").click()
    page.wait_for_selector(".ws-messages .notice")
    assert StakeholderGroup.objects.get(study=study, code="RU").name_en == "Russia (RF)"
    page.locator("#theme-one + details summary").click()
    page.click("button:has-text('Delete the theme one')")
    assert "The theme one has 3 item(s)" in page.locator(".ws-messages .error").inner_text()
    page.locator("#theme-spare + details summary").click()
    page.click("button:has-text('Delete the theme spare')")
    page.wait_for_selector(".ws-messages .notice")
    assert not Theme.objects.filter(study=study, code="spare").exists()
    page.screenshot(path=str(ARTIFACTS / "workspace-builder-frame-1280.png"), full_page=True)

    page.goto(f"{base}/team/")
    _fill(page, {"username": "carl"})
    page.select_option("[name='role']", "analyst")
    page.click("form.ws-box button.primary")
    page.wait_for_selector("tr[data-user='carl']")
    assert StudyMember.objects.get(study=study, user__username="carl").role == "analyst"

    page.goto(f"{base}/")
    page.click("button:has-text('Take a snapshot now')")
    page.wait_for_selector("#snapshots tr[data-round='1']")
    assert Round.objects.get(study=study, number=2).status == Round.Status.OPEN
    page.screenshot(path=str(ARTIFACTS / "workspace-snapshots-1280.png"), full_page=True)
    assert AuditEvent.objects.filter(study=study, action__in=[
        "group_renamed", "theme_deleted", "member_added", "live_snapshot"]).count() == 4
    assert not [e for e in errors if "Content Security Policy" in e]

"""The Fielding dashboard in Debian's Chromium: the demo survey's figures and histogram at 375
and 1280 px in English and Russian (no sideways scrolling, axe-core finds nothing serious or
critical, no Content-Security-Policy violation), and the counts updating themselves when a
respondent completes while the page is open."""

import pytest
from django.test import Client
from playwright.sync_api import expect

from surveys.models import Round
from tests.browser.test_browser_layout import Checker, _staff_session
from tests.surveys.fielding_helpers import collector, survey_load, walk

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _errors(page) -> list[str]:
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    return problems


def test_the_demo_surveys_fielding_page_reads_at_both_widths_in_both_languages(browser,
                                                                               live_server):
    from workspace.services import demo, demo_survey
    from workspace.services.planning import round_next
    from workspace.services.rounds import round_start

    staff = demo.demo_staff()
    study = demo.demo_study(staff=staff, path=demo_survey.SURVEY_FILE)
    round_ = round_start(round_=round_next(study=study, actor=staff["organizer"]),
                         actor=staff["organizer"])
    assert demo_survey.survey_simulate(round_=round_, n=2000) > 1000  # the round stays open
    checker = Checker(browser, live_server)
    session = _staff_session(study)
    for language in ("en", "ru"):
        context = checker.context(language, session)
        page = context.new_page()
        problems = _errors(page)
        checker.check(page, f"/studio/{study.slug}/fielding/", "fielding", language)
        assert page.locator("#fielding-times > figure svg.time-svg").count() == 1
        assert page.locator("tfoot tr").count() == 1 and page.locator(".fill-svg").count() >= 4
        # On a phone the counts begin in view, and the collector's code stays when it scrolls.
        page.set_viewport_size({"width": 375, "height": 800})
        row = page.locator("tbody tr[data-collector]").first
        arrivals = row.locator('[data-field="entries"]').bounding_box()
        assert arrivals["x"] + arrivals["width"] <= 375, arrivals
        page.locator(".scroll").first.evaluate("box => box.scrollLeft = 400")
        code = row.locator("th").bounding_box()
        assert -1 <= code["x"] <= 20, code
        page.locator(".scroll").first.screenshot(path=f"test-artifacts/fielding-375-{language}.png")
        page.locator("details.fielding-collector-times summary").first.click()
        checker.check(page, "", "fielding-collector-times", language, load=False)
        assert not [p for p in problems if "Content Security Policy" in p], problems
        context.close()
    assert not checker.problems, "\n".join(checker.problems)


def test_the_counts_update_themselves_while_the_survey_is_open(browser, live_server, settings):
    settings.FIELDING_POLL_SECONDS = 1
    study = survey_load()
    c = collector(study)
    walk(Client(), c.token, "first")
    checker = Checker(browser, live_server)
    context = checker.context("en", _staff_session(study))
    page = context.new_page()
    problems = _errors(page)
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(f"{live_server.url}/studio/{study.slug}/fielding/")
    assert page.locator("#fielding-live").get_attribute("data-poll-seconds") == "1"
    completed = page.locator('[data-total="completed"]')
    assert completed.inner_text() == "1"
    assert page.locator("#fielding-times > figure svg.time-svg").is_visible()
    walk(Client(), c.token, "second")  # a respondent completes while the page is open
    expect(completed).to_have_text("2", timeout=8000)
    row = page.locator('tbody tr[data-collector="ru-panel"]')
    assert row.locator('[data-field="completed"]').inner_text() == "2"
    assert row.locator('[data-field="fill"]').inner_text() == "2 / 5 (40.0 %)"
    # The histogram is drawn again from a fresh copy of the page: now two completions.
    expect(page.locator("#fielding-times > figure figcaption")).to_contain_text(
        "2 completed", timeout=8000)
    checker.accessibility(page, "fielding-live", "en")
    # Once the round closes the page says so and asks no more.
    Round.objects.filter(study=study).update(status=Round.Status.CLOSED)
    expect(page.locator("[data-state]")).to_have_text("Fielding is closed.", timeout=8000)
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if "dashboard" in r.url else None)
    page.wait_for_timeout(2500)
    assert asked == []
    assert not checker.problems, "\n".join(checker.problems)
    assert not problems, problems
    context.close()

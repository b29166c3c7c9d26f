"""A respondent's walk through a survey's open link in Debian's Chromium, in English and
Russian: consent, screening, both pages and the thank-you page, each checked at 375 and
1280 px (no sideways scrolling, axe-core finds nothing serious or critical), with no
Content-Security-Policy violation and no JavaScript needed; switching language mid-page keeps
the page's answers. A rating scale reads in order: one
option a line on a phone, the five in one row of equal columns on a desktop."""

import pytest

from surveys.models import Entry, Response
from tests.browser.test_browser_layout import Checker
from tests.surveys.fielding_helpers import collector, survey_load

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TEXTS = {"en": ("I agree to take part", "Continue", "Next", "Finish and send my answers",
                "Thank you"),
         "ru": ("Я согласен(на) участвовать", "Продолжить", "Далее",
                "Завершить и отправить ответы", "Спасибо")}


CHANGE_LANGUAGE_RU = "Сменить язык"
# Each option's box (its label: the button and its text) of a rating scale, in document order.
SCALE_BOXES = """name => [...document.querySelectorAll(`input[name="${name}"]`)].map(i => {
  const b = i.closest('label').getBoundingClientRect();
  return {left: b.left, right: b.right, top: b.top, bottom: b.bottom};
})"""


def _scale_reads_in_order(page, name: str) -> None:
    page.set_viewport_size({"width": 375, "height": 800})
    boxes = page.evaluate(SCALE_BOXES, name)
    assert len(boxes) == 5
    for above, below in zip(boxes, boxes[1:], strict=False):  # one a line, top to bottom
        assert below["top"] >= above["bottom"] - 0.5 and below["left"] == above["left"], boxes
    page.set_viewport_size({"width": 1280, "height": 800})
    boxes = page.evaluate(SCALE_BOXES, name)
    widths = {round(b["right"] - b["left"]) for b in boxes}
    assert len({b["top"] for b in boxes}) == 1 and max(widths) - min(widths) <= 1, boxes
    for left, right in zip(boxes, boxes[1:], strict=False):  # one row, left to right
        assert right["left"] >= left["right"], boxes


def _switch(page, language: str, button: str) -> None:
    page.locator("#lang-select").select_option(language)
    page.get_by_role("button", name=button).click()
    page.wait_for_load_state()
    assert page.url.endswith("/page/1/")


def _walk(checker: Checker, token: str, language: str) -> None:
    agree, go_on, next_, finish, thanks = TEXTS[language]
    context = checker.context(language)
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    checker.check(page, f"/s/{token}/?pid=browser-{language}", "survey-consent", language)
    page.get_by_role("button", name=agree).click()
    checker.check(page, "", "survey-screening", language, load=False)
    page.locator('input[name="s-role"][value="expert"]').check()
    page.get_by_role("button", name=go_on).click()
    assert page.url.endswith(f"/s/{token}/page/1/")
    checker.check(page, "", "survey-page-1", language, load=False)
    for name in ("a-agree", "a-dims.desirability"):
        _scale_reads_in_order(page, name)
    page.locator('input[name="a-agree"][value="4"]').check()
    page.locator('input[name="a-dims.desirability"][value="2"]').check()
    page.locator('input[name="a-dims.feasibility"][value="5"]').check()
    page.locator('input[name="a-prob"]').fill("35")
    if language == "en":  # switching language mid-page keeps what was chosen on it
        _switch(page, "ru", "Change language")
        assert page.locator('input[name="a-agree"][value="4"]').is_checked()
        assert page.locator('input[name="a-prob"]').input_value() == "35"
        assert page.locator("html").get_attribute("lang") == "ru"
        _switch(page, "en", CHANGE_LANGUAGE_RU)
    page.get_by_role("button", name=next_, exact=True).click()
    assert page.url.endswith(f"/s/{token}/page/2/")
    checker.check(page, "", "survey-page-2", language, load=False)
    page.locator('input[name="a-year"]').fill("2040")
    for option, place in (("a", "2"), ("b", "1"), ("c", "3")):
        page.locator(f'select[name="a-rank.{option}"]').select_option(place)
    page.locator('textarea[name="a-open.text"]').fill("Ответ" if language == "ru" else "Answer")
    page.get_by_role("button", name=finish).click()
    assert page.get_by_role("heading", level=1).inner_text() == thanks
    checker.check(page, "", "survey-thanks", language, load=False)
    assert not [p for p in problems if "Content Security Policy" in p], problems
    context.close()


def test_a_respondent_walks_through_the_survey_in_both_languages(browser, live_server):
    study = survey_load()
    token = collector(study, "us-open").token
    checker = Checker(browser, live_server)
    for language in ("en", "ru"):
        _walk(checker, token, language)
    assert not checker.problems, "\n".join(checker.problems)
    assert checker.checked == 10
    assert Entry.objects.filter(status=Entry.Status.COMPLETED).count() == 2
    assert Response.objects.filter(expert__study=study, status="submitted").count() == 2

"""The expert–public gap page in Debian's Chromium, in English and Russian, at 375 and 1280
px: no sideways page scroll, axe-core finds nothing serious or critical, and the page says how
many flagged respondents it leaves out and names the margins in its language."""

import pytest
from django.test import Client

from tests.browser.test_browser_layout import ARTIFACTS, Checker
from tests.surveys.test_gap_page import pair  # noqa: F401 - the hand-made panel and survey

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SAYS = {"en": ("1 flagged respondent left out: 1 speeder.", "country Russia"),
        "ru": ("Исключён 1 помеченный респондент: 1 слишком быстрый.", "страна Россия")}


def test_the_gap_page_fits_a_phone_in_both_languages(browser, live_server, pair):  # noqa: F811
    _panel, survey, owner = pair
    survey.margins = [{"variable": "country", "category": "Russia", "share": 0.75, "source": "t"},
                      {"variable": "country", "category": "United States", "share": 0.25,
                       "source": "t"}]
    survey.save()
    client = Client()
    client.force_login(owner)
    checker = Checker(browser, live_server)
    for language, (flagged, margin) in SAYS.items():
        context = checker.context(language, client.cookies["sessionid"].value)
        page = context.new_page()
        checker.check(page, f"/studies/{survey.slug}/gap/", "gap", language)
        assert page.locator("#gap-flagged").inner_text() == flagged
        assert margin in page.locator("main").inner_text()
        context.close()
    assert not checker.problems, "\n".join(checker.problems)
    assert checker.checked == 2


# The widest a row gets (three-digit shares, negative bounds, the longest labels), written into
# each table's last row so the check does not hang on this survey's answers.
WIDEST = """labels => document.querySelectorAll('.gap-item tbody tr:last-child').forEach(row => {
  const cells = row.querySelectorAll('td');
  const texts = ['100', '100,0', '100,0–100,0', '\u2212100,0', '\u2212100,0–\u2212100,0',
                 '\u22120,100 (' + labels[0] + ')', labels[1]];
  cells.forEach((cell, k) => { cell.textContent = texts[k]; });
})"""
WIDEST_LABELS = {"en": ("negligible", "survey agrees less"),
                 "ru": ("пренебрежимо малый", "в опросе согласны реже")}
# Each gap table's right edge against its scroll box's, and whether the box can scroll.
EDGES = """() => [...document.querySelectorAll('.gap-item .scroll')].map(box => {
  const cells = box.querySelectorAll('thead th');
  return {last: cells[cells.length - 1].getBoundingClientRect().right,
          box: box.getBoundingClientRect().right,
          scrolls: box.scrollWidth > box.clientWidth,
          hint: getComputedStyle(box).backgroundImage};
})"""


def test_the_gap_table_fits_a_desktop_and_shows_it_scrolls_on_a_phone(
        browser, live_server, pair):  # noqa: F811
    _panel, survey, owner = pair
    client = Client()
    client.force_login(owner)
    checker = Checker(browser, live_server)
    for language in ("en", "ru"):
        context = checker.context(language, client.cookies["sessionid"].value)
        page = context.new_page()
        page.goto(f"{live_server.url}/studies/{survey.slug}/gap/")
        page.set_viewport_size({"width": 1280, "height": 800})
        page.evaluate(WIDEST, list(WIDEST_LABELS[language]))
        for box in page.evaluate(EDGES):
            assert box["last"] <= box["box"] + 0.5, (language, box)
            assert not box["scrolls"], (language, box)
        page.set_viewport_size({"width": 375, "height": 800})
        boxes = page.evaluate(EDGES)
        assert boxes and all(b["scrolls"] and "gradient" in b["hint"] for b in boxes), boxes
        page.screenshot(path=str(ARTIFACTS / f"gap-table-{language}-375.png"), full_page=True)
        page.set_viewport_size({"width": 1280, "height": 800})
        page.screenshot(path=str(ARTIFACTS / f"gap-table-{language}-1280.png"), full_page=True)
        context.close()

"""The expert–public gap page in Debian's Chromium, in English and Russian, at 375 and 1280
px: no sideways page scroll, axe-core finds nothing serious or critical, and the page says how
many flagged respondents it leaves out and names the margins in its language."""

import pytest
from django.test import Client

from tests.browser.test_browser_layout import Checker
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

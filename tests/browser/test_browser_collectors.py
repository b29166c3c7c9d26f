"""The Collectors page in Debian's Chromium at 375 and 1280 px in English and Russian: no
sideways page scroll, axe-core finds nothing serious or critical, each row's actions are in
view at 1280 px (the link wraps), and a refused form says so above the fields."""

import pytest

from tests.browser.test_browser_layout import ARTIFACTS, Checker, _staff_session
from tests.surveys.fielding_helpers import survey_load

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_collectors_page_keeps_its_actions_in_view(browser, live_server):
    study = survey_load()
    checker = Checker(browser, live_server)
    session = _staff_session(study)
    for language in ("en", "ru"):
        context = checker.context(language, session)
        page = context.new_page()
        checker.check(page, f"/studio/{study.slug}/collectors/", "collectors", language)
        page.set_viewport_size({"width": 1280, "height": 800})
        button = page.locator("tr[data-collector='ru-panel'] button[value='close']")
        box = button.bounding_box()
        region = page.locator(".scroll").first.bounding_box()
        assert box is not None and region is not None
        assert box["x"] + box["width"] <= region["x"] + region["width"], (language, box, region)
        page.fill("#id_new-code", "Bad Code")
        page.click("form.ws-form button[type=submit]")
        assert page.locator("form.ws-form p.error[role=alert]").count() == 1
        assert page.locator("form.ws-form ul.errorlist").first.is_visible()
        page.screenshot(path=str(ARTIFACTS / f"collectors-refused-{language}.png"), full_page=True)
        context.close()
    assert not checker.problems, "\n".join(checker.problems)

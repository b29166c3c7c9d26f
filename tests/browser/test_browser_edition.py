"""The second edition's questionnaire in Debian's Chromium at 375 px: the frame and its
timeline fit the width, and a year item's "never" box autosaves as the item's maximum and gives
way to a typed year."""

import time

import pytest

from surveys.services.studies import study_load
from tests.browser.test_browser_expert import (  # noqa: F401 - fixtures
    ARTIFACTS,
    context,
    enter,
    page,
    saved_value,
    wait_saved,
)
from tests.edition_helpers import edition_study_data

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def saved_soon(expert, code: str, expected: float) -> bool:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if saved_value(expert, code) == expected:
            return True
        time.sleep(0.1)
    return False


def test_the_frame_fits_375_px_and_never_autosaves(page, live_server, round1, alice):  # noqa: F811
    study_load(data=edition_study_data())
    page.set_viewport_size({"width": 375, "height": 800})
    enter(page, live_server, alice)
    page.locator("details.timeline summary").click()
    assert page.locator("details.timeline li").count() == 2
    assert page.locator("details.timeline li").first.is_visible()
    page.locator("#item-prob details.resolution summary").click()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.screenshot(path=str(ARTIFACTS / "questionnaire-edition-375.png"), full_page=True)

    page.locator("input[name='a-year.never']").check()
    wait_saved(page, "year")
    assert saved_soon(alice, "year", 2100)
    page.locator("input[name='a-year']").fill("2040")
    assert not page.locator("input[name='a-year.never']").is_checked()
    assert saved_soon(alice, "year", 2040)
    page.reload()
    assert page.locator("input[name='a-year']").input_value() == "2040"
    assert not page.locator("input[name='a-year.never']").is_checked()
    assert page.context.dialogs == []

"""The feedback charts in Debian's Chromium at 375 px: every kind has its legend and its scale,
and the scale's numbers render at body size (at least 14 px), not as a 7 px SVG text."""


import pytest

from surveys.services.panel import expert_issue_token
from surveys.services.studies import study_load
from tests.conftest import ROOT
from tests.surveys.test_feedback_reading import _round_two, reading_study_data

ARTIFACTS = ROOT / "test-artifacts"
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Per item: how many charts (one per dimension or option) and the texts of their ticks.
KINDS = {"agree": (1, "1 2 3 4 5"), "dims": (2, "1 2 3 4 5"), "prob": (1, "0 25 50 75 100"),
         "year": (1, "2011 2033 2056 2078 2100"), "num": (1, "0 50 100 150 200"),
         "rank": (3, "1 2 3")}


def test_every_kinds_chart_has_legend_and_scale_readable_at_375_px(
        browser, live_server, django_capture_on_commit_callbacks, celery_worker):
    study = study_load(data=reading_study_data())
    panel = _round_two(study, django_capture_on_commit_callbacks)
    context = browser.new_context(viewport={"width": 375, "height": 800})
    page = context.new_page()
    page.goto(f"{live_server.url}/e/{expert_issue_token(expert=panel[1])}/")

    assert page.locator(".fb-explain").count() == 1
    for code, (charts, ticks) in KINDS.items():
        feedback = page.locator(f"#item-{code} .feedback")
        assert feedback.count() == charts, code
        for k in range(charts):
            box = feedback.nth(k)
            legend = box.locator(".fb-legend").inner_text()
            assert all(w in legend for w in ("your answer", "panel median", "middle half")), code
            assert box.locator(".fb-ticks").inner_text().split() == ticks.split(), code
            assert box.locator(".fb-axis").is_visible(), code
            sizes = box.locator(".fb-ticks span").evaluate_all(
                "spans => spans.map(s => [parseFloat(getComputedStyle(s).fontSize),"
                " s.getBoundingClientRect().height, s.getBoundingClientRect().right])")
            assert all(size >= 14 and height >= 14 for size, height, _right in sizes), (code, sizes)
            chart = box.locator("svg.fb-svg").bounding_box()
            assert chart["width"] >= 250, (code, chart)  # as wide as the box, not 200 px
            assert max(right for *_, right in sizes) <= 375, code
    # The expert's own answer is marked on every chart (a bar or a line in its colour).
    assert page.locator(".feedback .bar.own, .feedback line.own").count() == 9
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    ARTIFACTS.mkdir(exist_ok=True)
    page.locator("#item-num").screenshot(path=str(ARTIFACTS / "feedback-numeric-375-en.png"))
    page.locator("#item-dims").screenshot(path=str(ARTIFACTS / "feedback-dims-375-en.png"))
    context.close()

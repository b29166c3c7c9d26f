"""The round report in Debian's Chromium uses the screen (issue 18): at 1280 px its column is
wider than 1000 px and its results table is whole, not clipped in a scroll box; at 375 px the
page never scrolls sideways; the long appendices are folded and the contents link to sections."""

import uuid

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from surveys.services.aggregation import round_aggregate
from surveys.services.panel import member_add
from surveys.services.rounds import round_close, round_create, round_open
from surveys.services.studies import study_load
from tests.conftest import ROOT, small_study_data
from tests.surveys.test_reports import answer_round

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
ARTIFACTS = ROOT / "test-artifacts" / "report"


@pytest.fixture
def report_url(live_server):
    study = study_load(data=small_study_data(f"layout-{uuid.uuid4().hex[:6]}"))
    round_ = round_open(round_=round_create(study=study))
    answer_round(study, round_)
    round_close(round_=round_)
    round_aggregate(round_id=round_.pk)
    analyst = get_user_model().objects.create_user(username=f"lena-{uuid.uuid4().hex[:6]}",
                                                   password="lena-pw-123")
    member_add(study=study, user=analyst, role="analyst")
    client = Client()
    client.force_login(analyst)
    return f"{live_server.url}/studies/{study.slug}/reports/1/", client.cookies["sessionid"].value


def _open(browser, url: str, session: str, width: int, language: str = "en"):
    context = browser.new_context(viewport={"width": width, "height": 900})
    context.add_cookies([{"name": "sessionid", "value": session, "url": url},
                         {"name": "django_language", "value": language, "url": url}])
    page = context.new_page()
    page.goto(url)
    return page


def test_the_report_uses_the_screens_width_and_keeps_its_tables_whole(browser, report_url):
    url, session = report_url
    page = _open(browser, url, session, 1280)
    assert page.eval_on_selector("main", "m => m.clientWidth") > 1000
    table = page.eval_on_selector("table.results", "t => [t.scrollWidth, t.parentElement.clientWidth]")
    assert table[0] <= table[1]  # the whole table shows: its scroll box has nothing to scroll
    folded = page.eval_on_selector_all("details.appendix", "ds => ds.map(d => d.open)")
    assert len(folded) >= 4 and not any(folded)  # appendices, the every-round table, rationales
    links = page.eval_on_selector_all(".report-contents a", "as => as.map(a => a.hash)")
    assert links[:2] == ["#protocol", "#methods"] and "#convergence" in links and links[-1] == "#checklist"
    page.click(".report-contents a[href='#convergence']")
    assert page.evaluate("location.hash") == "#convergence"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "page-1280.png"), full_page=True)
    page.context.close()


@pytest.mark.parametrize("language", ["en", "ru"])
def test_the_report_never_scrolls_sideways_on_a_phone(browser, report_url, language):
    url, session = report_url
    page = _open(browser, url, session, 375, language)
    assert page.locator("html").get_attribute("lang") == language
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    page.evaluate("document.querySelectorAll('details.appendix').forEach(d => { d.open = true; })")
    # the appendices opened (the checklist's tables in their scroll box): still no sideways scroll
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"page-375-{language}.png"), full_page=True)
    page.context.close()

"""The round report in Debian's Chromium: its matplotlib charts display under the platform's
Content-Security-Policy (no inline style or script), and nothing violates it."""

import uuid

import pytest
from django.test import Client

from surveys.services.aggregation import round_aggregate
from surveys.services.panel import member_add
from surveys.services.rounds import round_close, round_create, round_open
from surveys.services.studies import study_load
from tests.conftest import ROOT, small_study_data
from tests.surveys.test_reports import answer_round

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_report_charts_display_without_any_csp_violation(page, live_server):
    from django.contrib.auth import get_user_model

    study = study_load(data=small_study_data(f"browser-report-{uuid.uuid4().hex[:6]}"))
    round_ = round_open(round_=round_create(study=study))
    answer_round(study, round_)
    round_close(round_=round_)
    round_aggregate(round_id=round_.pk)
    analyst = get_user_model().objects.create_user(username="bella", password="bella-pw-123")
    member_add(study=study, user=analyst, role="analyst")
    client = Client()
    client.force_login(analyst)
    page.context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value,
                               "url": live_server.url}])
    violations = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)

    page.goto(f"{live_server.url}/studies/{study.slug}/reports/1/")

    assert page.locator("h1").inner_text() == "Report on round 1"
    sizes = page.eval_on_selector_all("img.report-chart",
                                      "imgs => imgs.map(i => [i.complete, i.naturalWidth])")
    assert len(sizes) >= 4 and all(done and width > 100 for done, width in sizes)
    page.screenshot(path=str(ROOT / "test-artifacts" / "report-page.png"), full_page=True)
    assert violations == []

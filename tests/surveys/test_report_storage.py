"""The report kept in storage (issue 17, fast pages): the page reads the stored snapshot's
rendering, the PDF is built by a background job (pending -> ready), served from storage, built
again only when the snapshot changes, and only to the study's own staff."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from surveys.models import Answer, Rationale
from surveys.reports import charts, jobs
from surveys.services.aggregation.runs import aggregation_request
from surveys.services.panel import expert_issue_token, member_add
from surveys.services.rounds import round_close, round_create, round_open
from surveys.services.studies import study_load
from tests.conftest import _staff, small_study_data
from tests.surveys.test_reports import answer_round


@pytest.fixture
def reported(study, round1, django_capture_on_commit_callbacks):
    """Round 1 answered by six experts, closed and aggregated (its report pages rendered)."""
    answer_round(study, round1)
    with django_capture_on_commit_callbacks(execute=True):
        round_close(round_=round1)
    round1.refresh_from_db()
    return round1


def _page(client, round_) -> str:
    response = client.get(f"/studies/{round_.study.slug}/reports/{round_.number}/")
    assert response.status_code == 200
    html = response.content.decode()
    return html[html.index("<main"):]  # the header's CSRF token differs on every request


def _reaggregate(round_, capture) -> None:
    with capture(execute=True):
        aggregation_request(round_=round_)


def test_aggregation_renders_the_report_pages_in_every_language(reported, settings):
    for language, _name in settings.LANGUAGES:
        assert (jobs.reports_dir() / f"{jobs.job_key(reported, language)}.body.html").exists()


def test_the_report_page_draws_nothing_and_asks_few_queries(client, reported, analyst, monkeypatch):
    client.force_login(analyst)

    def no_drawing(*args, **kwargs):
        raise AssertionError("the page drew a chart")

    monkeypatch.setattr(charts, "convergence_chart", no_drawing)
    with CaptureQueriesContext(connection) as queries:
        html = _page(client, reported)
    # Convergence, distributions (agreement, dimensions), Policy-Delphi; groups: an HTML table.
    assert "Dissent register" in html and html.count('src="data:image/svg+xml;base64,') == 4
    assert len(queries) <= 15  # session, user, membership, round, the key's inputs: no statistics


def test_a_changed_answer_shows_only_after_the_round_is_aggregated_again(
        client, reported, analyst, django_capture_on_commit_callbacks):
    client.force_login(analyst)
    before = _page(client, reported)
    assert "Mistrust remains." in before
    Rationale.objects.filter(text="Mistrust remains.").update(text="Reconsidered entirely.")
    Answer.objects.filter(response__round=reported, item__code="agree", value=1).update(value=5)
    assert _page(client, reported) == before  # the snapshot stands until the next aggregation
    _reaggregate(reported, django_capture_on_commit_callbacks)
    after = _page(client, reported)
    # 'agree' now has 4 of 5 agreeing (4 4 5 5 against 2): no dissent left to list
    assert "Mistrust remains." not in after and after != before


def test_the_pdf_is_built_in_the_background_kept_and_built_again_for_a_new_snapshot(
        client, reported, analyst, django_capture_on_commit_callbacks):
    client.force_login(analyst)
    url = f"/studies/{reported.study.slug}/reports/1/download/pdf/"
    assert "the PDF is built in the background" in _page(client, reported)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        waiting = client.get(url)
    assert len(callbacks) == 1  # enqueued once the request commits, not inside it
    assert b'<progress id="report-progress" max="100" value="0">' in waiting.content
    assert b"The PDF is pending" in waiting.content and b'http-equiv="refresh"' in waiting.content
    assert "PDF pending" in _page(client, reported)
    with django_capture_on_commit_callbacks(execute=False) as again:
        client.get(url)
    assert again == []  # asking twice enqueues one job
    callbacks[0]()  # the job runs
    key = jobs.job_key(reported, "en")
    assert jobs.job_status(key)["state"] == "ready" and "PDF ready" in _page(client, reported)
    pdf = client.get(url)
    assert pdf["Content-Type"] == "application/pdf" and pdf["Cache-Control"] == "private, no-store"
    assert b"".join(pdf.streaming_content) == (jobs.reports_dir() / f"{key}.pdf").read_bytes()
    stored = (jobs.reports_dir() / f"{key}.pdf").stat().st_mtime_ns
    assert jobs.pdf_build(round_id=reported.pk, language="en", key=key) == "ready"
    assert (jobs.reports_dir() / f"{key}.pdf").stat().st_mtime_ns == stored  # run twice: no rebuild

    _reaggregate(reported, django_capture_on_commit_callbacks)
    assert jobs.job_key(reported, "en") != key
    with django_capture_on_commit_callbacks(execute=True):
        assert client.get(url)["Content-Type"].startswith("text/html")  # a new snapshot: pending
    assert client.get(url)["Content-Type"] == "application/pdf"


def test_the_stored_pdf_is_for_the_studys_staff_only(
        client, reported, analyst, django_capture_on_commit_callbacks):
    url = f"/studies/{reported.study.slug}/reports/1/download/pdf/"
    client.force_login(analyst)
    with django_capture_on_commit_callbacks(execute=True):
        client.get(url)
    assert client.get(url)["Content-Type"] == "application/pdf"
    client.logout()

    other = study_load(data=small_study_data("other-study"))
    round_open(round_=round_create(study=other))
    stranger = _staff(other, "sofia", None)
    member_add(study=other, user=stranger, role="organizer")  # staff, of another study
    client.force_login(stranger)
    for path in (url, url.replace("/pdf/", "/html/"), f"/studies/{reported.study.slug}/reports/1/"):
        assert client.get(path).status_code == 404
    client.logout()

    expert = reported.study.experts.first()
    client.get(f"/e/{expert_issue_token(expert=expert)}/")  # an expert's session
    response = client.get(url)
    assert response.status_code == 302 and "/login" in response["Location"]
    key = jobs.job_key(reported, "en")
    for guess in (f"/reports/{key}.pdf", f"/var/reports/{key}.pdf", f"/media/{key}.pdf"):
        assert client.get(guess).status_code == 404  # no public URL serves the storage


@pytest.mark.parametrize("language", ["ru"])
def test_the_stored_pdf_is_per_language(client, reported, analyst, settings, language,
                                        django_capture_on_commit_callbacks):
    assert jobs.job_key(reported, language) != jobs.job_key(reported, "en")
    client.force_login(analyst)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    assert "PDF собирается в фоне" in _page(client, reported)
    with django_capture_on_commit_callbacks(execute=True):
        waiting = client.get(f"/studies/{reported.study.slug}/reports/1/download/pdf/")
    assert "PDF в очереди" in waiting.content.decode()
    assert jobs.job_status(jobs.job_key(reported, language))["state"] == "ready"
    assert jobs.job_status(jobs.job_key(reported, "en"))["state"] == "missing"


def test_a_failed_pdf_says_why_and_is_built_again_only_when_asked(
        client, reported, analyst, monkeypatch, django_capture_on_commit_callbacks):
    from surveys.reports import render

    def broken(html):
        raise RuntimeError("the printer caught fire")

    monkeypatch.setattr(jobs, "html_to_pdf", broken)
    client.force_login(analyst)
    url = f"/studies/{reported.study.slug}/reports/1/download/pdf/"
    with django_capture_on_commit_callbacks(execute=True):
        client.get(url)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        failed = client.get(url).content.decode()
    assert callbacks == [] and "the printer caught fire" in failed  # no retry loop by refresh
    assert 'http-equiv="refresh"' not in failed and f"{url}?retry=1" in failed
    assert "the last PDF build failed" in _page(client, reported)
    monkeypatch.setattr(jobs, "html_to_pdf", render.html_to_pdf)
    with django_capture_on_commit_callbacks(execute=True):
        client.get(f"{url}?retry=1")
    assert client.get(url)["Content-Type"] == "application/pdf"

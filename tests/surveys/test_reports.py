"""Round reports: hand-worked figures, CSP-clean pages, HTML and PDF downloads, and the PDF
built in the background (in-process, and by a real worker with a broker); storage: test_report_storage."""

import io
import re
import sys
import uuid
from xml.etree import ElementTree

import pytest
from django.utils import translation
from pypdf import PdfReader

from surveys.models import Round
from surveys.reports import charts
from surveys.reports.data import report_data
from surveys.services.panel import expert_create
from surveys.services.responses import ItemAnswer, response_submit
from surveys.services.rounds import round_close, round_create, round_open
from surveys.services.studies import study_load
from tests.conftest import small_study_data, wait_for

GROUPS = ["RU", "RU", "US", "US", "WE", "WE"]
AGREE = [1, 2, 4, 4, 5, None]
REASONS = ["Too costly.", "Mistrust remains.", "", "Sound logic.", "", ""]
DESIRABILITY = [5, 5, 4, 4, None, None]
FEASIBILITY = [1, 2, 2, 1, None, None]


def answer_round(study, round_) -> None:
    """Six experts in three groups answer 'agree' and the two dimensions of 'dims'."""
    for k, group in enumerate(GROUPS):
        expert = expert_create(study=study, name=f"Reporter {k}", email=f"r{k}@example.org",
                               group_code=group)
        agree = (ItemAnswer(no_opinion=True) if AGREE[k] is None
                 else ItemAnswer(values={"": AGREE[k]}, rationale=REASONS[k]))
        answers = {"agree": agree}
        if DESIRABILITY[k] is not None:
            answers["dims"] = ItemAnswer(values={"desirability": DESIRABILITY[k],
                                                 "feasibility": FEASIBILITY[k]})
        response_submit(expert=expert, round_=round_, answers=answers)


@pytest.fixture
def reported(study, round1, django_capture_on_commit_callbacks):
    answer_round(study, round1)
    with django_capture_on_commit_callbacks(execute=True):
        round_close(round_=round1)
    round1.refresh_from_db()
    return round1


def test_report_figures_match_hand_worked_values(reported):
    data = report_data(reported)
    [methods] = data["methods"]["rounds"]
    # All six submitted; rated rows: agree (60 % agree, IQR 2: none), desirability (4 4 5 5:
    # 100 % agree, IQR 1: agree), feasibility (1 1 2 2: 100 % disagree, median 1.5, IQR 1:
    # disagree). Items: agree none; dims none (its dimensions differ).
    assert (methods["panel"], methods["submitted"], methods["rate"]) == (6, 6, 100.0)
    counts = methods["counts"]
    assert (counts["items"], counts["agree"], counts["disagree"], counts["none"]) == (2, 0, 0, 2)
    # The same verdicts per item and dimension, as the tables list them: agree none,
    # dims/desirability agree, dims/feasibility disagree.
    assert counts["rows"] == {"n": 3, "agree": 1, "disagree": 1, "none": 1}
    assert counts["rule_revision"] is None  # no rule registered: the default rule, said so
    rows = {r.label: r.aggregate for r in data["results"]}
    assert [rows[k].verdict for k in ("agree", "dims/desirability", "dims/feasibility")] == [
        "none", "agree", "disagree"]
    assert (rows["agree"].n, rows["agree"].median, rows["agree"].iqr) == (5, 4, 2)
    assert (rows["dims/desirability"].q1, rows["dims/desirability"].q3) == (4, 5)
    comparison = {r["label"]: r for r in data["comparison"]["rows"]}
    assert comparison["agree"]["medians"] == [1.5, 4, 5]
    # Kruskal-Wallis on RU 1 2 | US 4 4 | WE 5: rank sums 3, 7, 5; H = .4 * 54 - 18 = 3.6,
    # divided by the tie correction 1 - (2^3 - 2) / (5^3 - 5) = .95.
    assert comparison["agree"]["test"] == "kruskal-wallis"
    assert comparison["agree"]["statistic"] == pytest.approx(3.6 / 0.95)


def test_the_dissent_register_shows_the_minority_by_group_with_its_reasons(reported):
    # Only 'agree' lacks consensus (both dimensions of 'dims' reached it).
    [dissent] = report_data(reported)["dissent"]
    # agree: 3 agree (4 4 5) against 2 disagreeing Russians (1 2), who gave two rationales;
    # nobody is neutral. Agree is the largest side, disagree the one minority side.
    sides = {s.key: (s.size, s.minority) for s in dissent.sides}
    assert (dissent.label, dissent.n) == ("agree", 5)
    assert sides == {"agree": (3, False), "neutral": (0, False), "disagree": (2, True)}
    assert [(g.name, g.agree, g.neutral, g.disagree) for g in dissent.by_group] == [
        ("Russia", 0, 0, 2), ("United States", 2, 0, 0), ("Western Europe", 1, 0, 0)]
    [minority] = dissent.minorities
    assert minority.rationales == ["Mistrust remains.", "Too costly."]  # alphabetical, anonymous


def test_the_2d_chart_places_each_items_dimension_means(reported):
    points = {(p["item"], p["group"]): p for p in report_data(reported)["dimension_points"]}
    panel = points[("dims", "")]
    assert (panel["x_dimension"], panel["y_dimension"]) == ("desirability", "feasibility")
    assert (panel["x"], panel["y"]) == (4.5, 1.5)
    assert (points[("dims", "RU")]["x"], points[("dims", "RU")]["y"]) == (5, 1.5)


def test_charts_are_svg_documents_with_their_labels():
    rows = [{"label": "agree", "round": r, "iqr": iqr, "pct_agree": pct}
            for r, iqr, pct in [(1, 2, 60), (2, 1, 80)]]
    document = charts.convergence_chart(rows, labels={"iqr": "IQR", "agree": "% agree",
                                                      "round": "Round %(n)s"})
    root = ElementTree.fromstring(document.encode())  # noqa: S314 (our own SVG, not untrusted)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert ">agree<" in document  # text stays text (svg.fonttype none)
    assert charts.data_uri(document).startswith("data:image/svg+xml;base64,")


def test_the_report_page_is_csp_clean_and_for_members_only(client, reported, analyst, outsider):
    url = f"/studies/{reported.study.slug}/reports/1/"
    client.force_login(analyst)
    response = client.get(url)
    html = response.content.decode()
    assert response.status_code == 200
    for section in ("Methods", "Consensus table, round 1", "Convergence across rounds",
                    "Stakeholder groups compared", "Policy-Delphi dimensions", "Dissent register"):
        assert section in html
    assert "Mistrust remains." in html and "Reporter" not in html and "@example.org" not in html
    assert not re.search(r"<script|<style|\sstyle=", html)
    # Convergence, distributions (agreement, dimensions), Policy-Delphi; groups: an HTML table.
    assert html.count('src="data:image/svg+xml;base64,') == 4
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    client.force_login(outsider)
    assert client.get(url).status_code == 404
    assert client.get(f"/studies/{reported.study.slug}/reports/1/download/pdf/").status_code == 404


def test_the_report_speaks_russian(client, reported, analyst, settings):
    client.force_login(analyst)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ru"
    with translation.override("en"):  # the middleware activates Russian: leave no trace behind
        html = client.get(f"/studies/{reported.study.slug}/reports/1/").content.decode()
    assert "Реестр разногласий" in html and "Россия" in html


def test_html_and_pdf_downloads(client, reported, analyst, django_capture_on_commit_callbacks):
    client.force_login(analyst)
    base = f"/studies/{reported.study.slug}/reports/1/download"
    page = client.get(f"{base}/html/")
    assert page["Content-Disposition"] == f'attachment; filename="{reported.study.slug}-round-1.html"'
    assert b"<!doctype html>" in page.content and b"Dissent register" in page.content
    with django_capture_on_commit_callbacks(execute=True):
        client.get(f"{base}/pdf/")  # the background job builds the PDF once the request commits
    pdf = client.get(f"{base}/pdf/")
    assert pdf["Content-Type"] == "application/pdf"
    data = b"".join(pdf.streaming_content)
    assert data.startswith(b"%PDF-")
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)
    assert "Dissent register" in text and "Mistrust remains." in text
    assert client.get(f"{base}/docx/").status_code == 404


def test_without_weasyprint_the_pdf_link_explains_itself(client, reported, analyst, monkeypatch):
    monkeypatch.setitem(sys.modules, "weasyprint", None)  # as if it could not be imported
    client.force_login(analyst)
    response = client.get(f"/studies/{reported.study.slug}/reports/1/download/pdf/")
    assert response.status_code == 503
    assert "Pango" in response.content.decode() and "Download the HTML report" in response.content.decode()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_builds_the_pdf(celery_worker, client):
    from django.contrib.auth import get_user_model

    from surveys.services.panel import member_add

    study = study_load(data=small_study_data(f"report-{uuid.uuid4().hex[:8]}"))
    round_ = round_open(round_=round_create(study=study))
    answer_round(study, round_)
    round_close(round_=round_)
    wait_for(lambda: Round.objects.get(pk=round_.pk).status == Round.Status.AGGREGATED,
             what="the worker to aggregate the round")
    from surveys.reports import jobs

    round_ = Round.objects.get(pk=round_.pk)
    wait_for(lambda: all((jobs.reports_dir() / f"{jobs.job_key(round_, lang)}.body.html").exists()
                         for lang in ("en", "ru")),
             timeout=90, what="the worker to render the report pages after the aggregation")
    user = get_user_model().objects.create_user(username=f"an-{study.slug}", password="x-pw-123456")
    member_add(study=study, user=user, role="analyst")
    client.force_login(user)
    url = f"/studies/{study.slug}/reports/1/download/pdf/"
    wait_for(lambda: client.get(url)["Content-Type"] == "application/pdf", timeout=90,
             what="the worker to build the PDF")
    assert b"".join(client.get(url).streaming_content).startswith(b"%PDF-")


def test_the_study_overview_links_to_reports_and_exports(client, reported, organizer):
    client.force_login(organizer)
    html = client.get(f"/studies/{reported.study.slug}/").content.decode()
    assert f'href="/studies/{reported.study.slug}/reports/1/"' in html
    for fmt in ("csv", "xlsx", "parquet", "sav", "json"):
        assert f'href="/studies/{reported.study.slug}/export/{fmt}/"' in html

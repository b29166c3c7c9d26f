"""The registered rules at work: the aggregation's verdict follows them, and every report prints
them with every change made after round 1 opened and its written reason."""

import io

import pytest
from django.utils import translation
from pypdf import PdfReader

from surveys.figures import item_verdicts, rule_in_force
from surveys.models import Aggregate, Round
from surveys.reports.data import report_data
from surveys.reports.jobs import job_key
from surveys.reports.office import workbook_rows
from surveys.reports.render import html_to_pdf, report_html
from surveys.services.rounds import round_create
from tests.workspace_helpers import (
    aggregate_pending,
    close_and_aggregate,
    english,  # noqa: F401 - a fixture
    make_experts,
    register_rules,
    submit,
)
from workspace.selectors import rules_for_report
from workspace.services.rounds import round_start

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

REASON = "The panel is half the planned size, so IQR alone is too strict."


def panel_row(round_, code="agree", group=""):
    return Aggregate.objects.get(round=round_, item__code=code, dimension="", group=group)


@pytest.fixture
def answered(study, organizer):
    """Agreement-only rule (>= 60 %) registered; round 1: 'agree' answered 1 2 4 5 5.

    By hand: n 5, three of five in the top boxes (4 5 5): 60 %; R type 7 quartiles at
    positions 1 and 3 of the sorted values: Q1 2, Q3 5, IQR 3.
    """
    register_rules(study, organizer, definition="agreement", agree_pct=60, iqr_max=1)
    round_ = round_start(round_=round_create(study=study, items=[study.items.get(code="agree")]),
                         actor=organizer)
    experts = make_experts(study, [("P1", "RU", "en"), ("P2", "RU", "en"), ("P3", "US", "en"),
                                   ("P4", "US", "en"), ("P5", "WE", "en")])
    for expert, value in zip(experts, [1, 2, 4, 5, 5], strict=True):
        submit(expert, round_, agree=value)
    return close_and_aggregate(round_)


def test_without_a_registered_rule_the_default_rule_applies_and_says_so(study):
    rule = rule_in_force(study)
    assert rule.pk is None and rule.as_dict()["kind"] == "all"
    assert (rule.agree_pct, rule.iqr_max, rule.direction) == (75, 1, "either")


def test_the_registered_verdict_follows_the_registered_agreement_rule(answered, study):
    row = panel_row(answered)
    assert (row.n, row.pct_agree, row.q1, row.q3, row.iqr) == (5, 60, 2, 5, 3)
    # Agreement only, at least 60 %: 60 % in the top boxes with the median (4) there is
    # enough, whatever the IQR.
    assert row.verdict == "agree" and row.run.rule_revision == 1
    assert rule_in_force(study).as_dict()["kind"] == "agree_pct"
    # Russia answered 1 and 2: everyone in the bottom boxes, consensus on rejection.
    assert panel_row(answered, group="RU").verdict == "disagree"
    assert item_verdicts(answered)[row.item_id]["verdict"] == "agree"  # the dashboard agrees


def test_a_changed_rule_reaches_a_new_snapshot_of_the_round(answered, study, organizer):
    register_rules(study, organizer, definition="combined", reason=REASON)  # 60 % and IQR <= 1
    assert panel_row(answered).verdict == "agree"  # the snapshot under revision 1 stands
    aggregate_pending(study)
    assert panel_row(answered).verdict == "none"  # IQR 3 > 1
    register_rules(study, organizer, definition="iqr", iqr_max=3, reason=REASON + " Again.")
    aggregate_pending(study)
    row = panel_row(answered)
    assert (row.verdict, row.run.version, row.run.rule_revision) == ("agree", 3, 3)  # IQR 3 <= 3


def test_rand_ucla_does_not_apply_to_a_five_point_item(answered, study, organizer):
    register_rules(study, organizer, definition="rand_ucla", reason=REASON)
    aggregate_pending(study)
    row = panel_row(answered)
    # RAND/UCLA needs a 9-point scale: no verdict, while the side-by-side definitions are
    # still there (60 % < 70 %).
    assert row.verdict == "" and row.extra["consensus_rules"]["agree_70"] is False
    assert item_verdicts(answered)[row.item_id]["verdict"] is None


@pytest.fixture
def changed(answered, study, organizer):
    register_rules(study, organizer, definition="combined", reason=REASON)
    return Round.objects.get(pk=answered.pk)


def test_rules_for_report_describes_the_rules_and_the_change_with_its_reason(changed, study):
    rules = rules_for_report(study)
    assert rules["revision"] == 2 and not rules["registered_late"]
    assert rules["lines"] == [
        "Consensus: at least 60 % of valid answers in the top boxes (agreement) or the bottom "
        "boxes (rejection) and an interquartile range of at most 1.",
        "Stability: Wilcoxon signed-rank p above 0.05 between rounds.",
        "Stopping: after at most 3 rounds."]
    [change] = rules["changes_after_lock"]
    assert change["reason"] == REASON
    assert change["changed"] == [(
        "Consensus: at least 60 % of valid answers in the top boxes (agreement) or the bottom "
        "boxes (rejection), with the median there.",
        "Consensus: at least 60 % of valid answers in the top boxes (agreement) or the bottom "
        "boxes (rejection) and an interquartile range of at most 1.")]


def test_every_report_prints_the_registered_rules_and_the_change_with_its_reason(
        changed, study, client, analyst, django_capture_on_commit_callbacks):
    assert report_data(changed)["rules"]["changes_after_lock"][0]["reason"] == REASON
    client.force_login(analyst)
    page = client.get(f"/studies/{study.slug}/reports/1/").content.decode()
    standalone = client.get(f"/studies/{study.slug}/reports/1/download/html/").content.decode()
    for html in (page, standalone):
        assert "Registered rules" in html and "Changes after round 1 opened" in html
        assert REASON in html and "Stopping: after at most 3 rounds." in html
        assert "Consensus definition: at least" not in html  # the thresholds' sentence gives way
    with django_capture_on_commit_callbacks(execute=True):  # the PDF is built in the background
        client.get(f"/studies/{study.slug}/reports/1/download/pdf/")
    pdf = b"".join(client.get(f"/studies/{study.slug}/reports/1/download/pdf/").streaming_content)
    text = " ".join(" ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(pdf)).pages)
    assert "Registered rules" in text and "half the planned size" in text
    rows = workbook_rows(study)["Rules"]
    assert rows[0] == ["part", "revision", "date", "rule", "reason"]
    assert [r[0] for r in rows[1:]] == ["registered rule"] * 3 + ["changed after round 1 opened"]
    assert rows[-1][1] == 2 and rows[-1][4] == REASON and " -> " in rows[-1][3]


def test_reports_print_the_rules_in_russian_and_a_rule_change_renders_them_again(
        changed, study, organizer):
    with translation.override("ru"):
        html = report_html(changed, standalone=True)
    assert "Зарегистрированные правила" in html and REASON in html
    assert html_to_pdf(html).startswith(b"%PDF-")
    before = job_key(changed, "en")
    register_rules(study, organizer, max_rounds=4, reason="Funding allows one more round.")
    assert job_key(changed, "en") != before  # a background report is rendered again


def test_rules_registered_after_round_1_opened_say_so_in_the_report(study, organizer):
    from surveys.services.rounds import round_open  # as `manage.py open_round` does

    round_ = round_open(round_=round_create(study=study))
    register_rules(study, organizer, definition="iqr", iqr_max=1.5,
                   reason="The study was opened from the command line before registering.")
    rules = rules_for_report(study)
    assert rules["registered_late"] and rules["changes_after_lock"][0]["changed"][0] == (
        "", "Consensus: an interquartile range of at most 1.5, with the median in the top boxes "
        "(agreement) or the bottom boxes (rejection).")
    html = report_html(round_, standalone=True)
    assert "after round 1 had opened" in html and "before round 1" not in html
    assert "opened from the command line" in html


def test_the_study_overview_states_the_registered_rule(client, study, organizer):
    before = client
    before.force_login(organizer)
    assert "No consensus rules registered yet." in before.get(
        f"/studies/{study.slug}/").content.decode()

    register_rules(study, organizer, definition="agreement", agree_pct=60, iqr_max=1)
    html = client.get(f"/studies/{study.slug}/").content.decode()

    assert ("Consensus: at least 60 % of valid answers in the top boxes (agreement) or the bottom "
            "boxes (rejection), with the median there.") in html
    assert "interquartile range" not in html

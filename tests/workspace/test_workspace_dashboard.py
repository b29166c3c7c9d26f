"""The dashboard's figures, worked out by hand: response by group, attrition, time, stability."""

from datetime import timedelta

import pytest

from surveys.figures import item_verdicts, participation, participation_total, stopping_status
from surveys.models import Aggregate, Response, Round
from surveys.services.panel import expert_issue_token
from surveys.services.responses import ItemAnswer, response_save_draft
from surveys.services.rounds import round_create
from tests.workspace_helpers import (
    aggregate_pending,
    close_and_aggregate,
    english,  # noqa: F401 - a fixture
    make_experts,
    register_rules,
    submit,
)
from workspace.services import planning
from workspace.services.rounds import round_start

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


@pytest.fixture
def two_rounds(study, organizer):
    """Round 1: P1-P4 submit 'agree' 1 2 4 4; round 2 (agree carried) is open."""
    experts = make_experts(study, [("P1", "RU", "en"), ("P2", "RU", "ru"), ("P3", "US", "en"),
                                   ("P4", "US", "en"), ("P5", "WE", "en")])
    for expert in experts[:4]:  # P5 is on the panel but not invited yet
        expert_issue_token(expert=expert)
    register_rules(study, organizer, stability="wilcoxon", stopping="converged", max_rounds=3)
    round1 = round_start(round_=round_create(study=study, items=[study.items.get(code="agree")]),
                         actor=organizer)
    for expert, value in zip(experts[:4], [1, 2, 4, 4], strict=True):
        submit(expert, round1, agree=value)
    close_and_aggregate(round1)
    agree = study.items.get(code="agree")
    round2 = planning.round_plan_next(study=study, include=[agree.pk], actor=organizer)
    round2 = round_start(round_=round2, actor=organizer)
    return experts, round1, round2


def test_response_by_group_with_attrition_from_the_previous_round(two_rounds):
    (p1, p2, p3, p4, p5), _round1, round2 = two_rounds
    submit(p1, round2, agree=2)
    response_save_draft(expert=p2, round_=round2, answers={"agree": ItemAnswer(values={"": 3})})
    submit(p3, round2, agree=4)
    rows = {(r["group"].code if r["group"] else "all"): r for r in participation(round2)}
    # P5 (WE) is on the panel but was never invited: in the panel, the denominator, not invited.
    pick = ("panel", "invited", "started", "submitted", "rate", "previous", "lost", "attrition",
            "final")
    # While round 2 is open, attrition is not known yet (nobody has been lost for good).
    assert [rows["RU"][k] for k in pick] == [2, 2, 2, 1, 50.0, 2, None, None, False]
    assert [rows["US"][k] for k in pick] == [2, 2, 1, 1, 50.0, 2, None, None, False]
    assert [rows["WE"][k] for k in pick] == [1, 0, 0, 0, 0.0, 0, None, None, False]
    assert [rows["all"][k] for k in pick] == [5, 4, 3, 2, 40.0, 4, None, None, False]
    round2 = close_and_aggregate(round2)
    rows = {(r["group"].code if r["group"] else "all"): r for r in participation(round2)}
    assert [rows["RU"][k] for k in pick] == [2, 2, 2, 1, 50.0, 2, 1, 50.0, True]
    assert [rows["US"][k] for k in pick] == [2, 2, 1, 1, 50.0, 2, 1, 50.0, True]
    assert [rows["WE"][k] for k in pick] == [1, 0, 0, 0, 0.0, 0, 0, None, True]
    assert [rows["all"][k] for k in pick] == [5, 4, 3, 2, 40.0, 4, 2, 50.0, True]


def test_the_first_saved_answer_starts_a_response_and_later_saves_keep_that_time(two_rounds):
    (p1, _p2, _p3, _p4, _p5), _round1, round2 = two_rounds
    assert not Response.objects.filter(expert=p1, round=round2).exists()
    first = response_save_draft(expert=p1, round_=round2,
                                answers={"agree": ItemAnswer(values={"": 3})})
    assert first.started_at is not None and first.submitted_at is None
    response_save_draft(expert=p1, round_=round2, answers={"agree": ItemAnswer(values={"": 4})})
    done = submit(p1, round2, agree=5)
    assert done.started_at == first.started_at and done.submitted_at >= done.started_at


def test_median_time_to_complete_counts_from_the_first_saved_answer_per_group(two_rounds):
    (p1, p2, p3, p4, _p5), _round1, round2 = two_rounds
    for expert in (p1, p3, p4):
        submit(expert, round2, agree=4)
    response_save_draft(expert=p2, round_=round2, answers={"agree": ItemAnswer(values={"": 3})})
    nine = round2.opens_at.replace(hour=9, minute=0, second=0, microsecond=0)
    times = {p1: (0, 10), p3: (30, 120), p4: (60, 80)}  # minutes after nine: started, submitted
    for expert, (began, done) in times.items():
        response = Response.objects.get(expert=expert, round=round2)
        Response.objects.filter(pk=response.pk).update(
            started_at=nine + timedelta(minutes=began), submitted_at=nine + timedelta(minutes=done))
        response.revisions.update(created_at=nine + timedelta(minutes=done))  # the one submit
    # P1 10 minutes, P3 90, P4 20; P2 has not submitted. Whole panel: median of 10, 20, 90 = 20;
    # Russia: P1 alone, 10; United States: (90 + 20) / 2 = 55.
    assert participation_total(round2)["median_minutes"] == 20.0
    rows = {(r["group"].code if r["group"] else "all"): r for r in participation(round2)}
    assert [rows[g]["median_minutes"] for g in ("RU", "US", "WE", "all")] == [10.0, 55.0, None, 20.0]
    assert [rows[g]["started"] for g in ("RU", "US", "all")] == [2, 2, 4]
    # A submitted response without a start time (carried forward by a Real-Time snapshot, or
    # saved before started_at existed) counts as started but not in the time to complete.
    Response.objects.filter(expert=p4, round=round2).update(started_at=None)
    assert participation_total(round2)["median_minutes"] == 50.0  # 10 and 90
    assert {r["group"].code if r["group"] else "all": r["started"]
            for r in participation(round2)}["US"] == 2


def test_stability_under_both_definitions_with_hand_worked_values(two_rounds, study, organizer):
    (p1, p2, p3, p4, _p5), _round1, round2 = two_rounds
    for expert, value in zip((p1, p2, p3, p4), [2, 3, 4, 4], strict=True):
        submit(expert, round2, agree=value)
    round2 = close_and_aggregate(Round.objects.get(pk=round2.pk))
    agree = study.items.get(code="agree")
    # Pairs 1->2, 2->3, 4->4, 4->4: two experts moved by +1. Wilcoxon on [1, 1]: p >= 0.5 > 0.05,
    # so stable. Shares: round 1 {1: 25, 2: 25, 4: 50}, round 2 {2: 25, 3: 25, 4: 50}:
    # (25 + 0 + 25 + 0) / 2 = 25 % change >= 15 %, so not stable under the distribution rule.
    assert item_verdicts(round2)[agree.pk]["stable"] is True
    register_rules(study, organizer, stability="distribution", stability_pct=15,
                   reason="Scheibe's rule suits a small panel better than a test.")
    assert item_verdicts(round2)[agree.pk]["stable"] is True  # until the new snapshot is written
    aggregate_pending(study)
    assert item_verdicts(round2)[agree.pk]["stable"] is False
    # Round 2: 2 3 4 4 -> 50 % agree, no consensus; not stable: the study goes on (round 2 of 3).
    status = stopping_status(study)
    assert (status["settled"], status["rated"], status["stop"]) == (0, 1, False)
    register_rules(study, organizer, max_rounds=2, reason="Funding ends after the second round.")
    aggregate_pending(study)
    assert stopping_status(study)["stop"] is True


def test_the_rounds_page_warns_before_a_round_beyond_the_stopping_rule(two_rounds, study,
                                                                      organizer, client):
    (p1, p2, p3, p4, _p5), _round1, round2 = two_rounds
    client.force_login(organizer)
    for expert, value in zip((p1, p2, p3, p4), [2, 3, 4, 4], strict=True):
        submit(expert, round2, agree=value)
    close_and_aggregate(Round.objects.get(pk=round2.pk))
    # Not stable under the distribution rule (25 % change, see the test above): round 2 of 3,
    # go on, no warning.
    register_rules(study, organizer, stability="distribution", stability_pct=15,
                   reason="Scheibe's rule suits a small panel better than a test.")
    aggregate_pending(study)
    page = client.get(f"/studio/{study.slug}/rounds/").content.decode()
    assert 'id="plan"' in page and 'id="stopping-notice"' not in page
    register_rules(study, organizer, max_rounds=2, reason="Funding ends after the second round.")
    aggregate_pending(study)
    page = client.get(f"/studio/{study.slug}/rounds/").content.decode()
    assert 'id="stopping-notice"' in page and "goes beyond the registered protocol" in page


def test_a_rule_change_after_the_lock_writes_new_snapshot_versions_under_the_new_rule(
        two_rounds, study, organizer):
    (p1, p2, p3, p4, _p5), _round1, round2 = two_rounds
    for expert, value in zip((p1, p2, p3, p4), [2, 3, 4, 4], strict=True):
        submit(expert, round2, agree=value)
    round2 = close_and_aggregate(Round.objects.get(pk=round2.pk))
    agree = study.items.get(code="agree")
    panel = Aggregate.objects.get(round=round2, item=agree, group="")
    # The aggregation stored the pairs and the 25 % change (see the hand-worked test above).
    assert (panel.extra["stability_pairs"], panel.extra["distribution_change"]) == (4, 25.0)
    assert panel.run.rule_revision == 1
    stored = {}
    for revision, pct in ((2, 30), (3, 20)):
        register_rules(study, organizer, stability="distribution", stability_pct=pct,
                       reason=f"A {pct} % threshold, as the protocol's appendix says.")
        aggregate_pending(study)
        panel = Aggregate.objects.get(round=round2, item=agree, group="")
        assert (panel.run.rule_revision, panel.run.rule["stability"]) == (
            revision, {"kind": "distribution", "change_below_pct": pct})
        stored[pct] = item_verdicts(round2)[agree.pk]["stable"]
    assert stored == {30: True, 20: False}
    # Both closed rounds were recomputed, each in a version of its own.
    assert sorted(round2.aggregation_runs.values_list("version", "rule_revision")) == [
        (1, 1), (2, 2), (3, 3)]

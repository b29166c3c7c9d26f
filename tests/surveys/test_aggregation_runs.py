"""Aggregation runs: versions, exactly-once writes, progress, failures and the chunked path."""

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.db import IntegrityError, transaction
from django.test import override_settings

from surveys.models import Aggregate, AggregationChunk, AggregationRun, AuditEvent, Round
from surveys.selectors import aggregation_progress
from surveys.services.aggregation import aggregation_request, round_aggregate, runs
from surveys.services.aggregation.chunks import partition
from surveys.services.panel import expert_create, expertise_save
from surveys.services.responses import ItemAnswer, response_submit
from surveys.services.rounds import round_close, round_create, round_open
from surveys.tasks import aggregate_round

pytestmark = pytest.mark.django_db

SNAPSHOT_FIELDS = ["item__code", "dimension", "group", "n", "no_opinion", "median", "q1", "q3",
                   "iqr", "mean", "sd", "pct_agree", "pct_disagree", "distribution", "verdict", "stable",
                   "median_change", "extra"]


def panel_answers(round_, *, seed: int = 0) -> list:
    """Nine experts in three groups answer every kind of item (one with no opinion)."""
    study = round_.study
    experts = [expert_create(study=study, name=f"P{k}", email=f"p{k}-{seed}@example.org",
                             group_code=("RU", "US", "WE")[k % 3]) for k in range(9)]
    agree = [1, 2, 4, 4, 5, None, 3, 4, 5]
    for k, expert in enumerate(experts):
        response_submit(expert=expert, round_=round_, answers={
            "agree": (ItemAnswer(no_opinion=True) if agree[k] is None
                      else ItemAnswer(values={"": agree[k]})),
            "dims": ItemAnswer(values={"desirability": 1 + (k + seed) % 5, "feasibility": 5 - k % 3}),
            "prob": ItemAnswer(values={"": 10.0 * k + 5}),
            "year": ItemAnswer(values={"": 2030 + k}),
            "rank": ItemAnswer(values=dict(zip("abc", [[1, 2, 3], [2, 1, 3], [3, 2, 1]][k % 3],
                                              strict=True))),
        })
    return experts


def closed(round_, capture) -> Round:
    with capture(execute=True):
        round_close(round_=round_)
    return Round.objects.get(pk=round_.pk)


def snapshot(round_) -> list[tuple]:
    return sorted(Aggregate.objects.filter(round=round_).values_list(*SNAPSHOT_FIELDS),
                  key=lambda row: row[:3])


def test_closing_a_round_writes_version_one_with_its_run_record(
        round1, django_capture_on_commit_callbacks):
    panel_answers(round1)

    round_ = closed(round1, django_capture_on_commit_callbacks)

    run = AggregationRun.objects.get(round=round_)
    assert (run.version, run.kind, run.status, run.attempts, run.progress) == (1, "round", "done", 1, 100)
    assert run.rows == Aggregate.objects.filter(round=round_).count() > 0
    assert run.answers == 9 * (1 + 2 + 1 + 1 + 3)  # every answer row of the round was read
    assert set(Aggregate.objects.filter(round=round_).values_list("run", flat=True)) == {run.pk}
    assert run.panel["agreement_answers"] == 8 and run.panel["agreement_items"] == 1
    assert run.seconds is not None and run.finished_at is not None
    assert aggregation_progress(round_) == run


def test_the_same_version_twice_writes_once_and_a_new_version_replaces_it(
        round1, django_capture_on_commit_callbacks):
    panel_answers(round1)
    round_ = closed(round1, django_capture_on_commit_callbacks)
    before = snapshot(round_)

    assert aggregate_round(round_.pk, 1) == len(before)  # a redelivered message: nothing new
    assert AuditEvent.objects.filter(action="round_aggregated").count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        aggregation_request(round_=round_)

    assert snapshot(round_) == before
    assert set(Aggregate.objects.filter(round=round_).values_list("run__version", flat=True)) == {2}
    assert AuditEvent.objects.filter(action="round_aggregated").count() == 2
    with pytest.raises(IntegrityError), transaction.atomic():
        AggregationRun.objects.create(round=round_, version=2)


def test_an_older_version_never_overwrites_a_newer_one(round1, django_capture_on_commit_callbacks):
    panel_answers(round1)
    round_ = closed(round1, django_capture_on_commit_callbacks)
    stale = aggregation_request(round_=round_, enqueue=False)  # v2, its message "delayed"
    with django_capture_on_commit_callbacks(execute=True):
        aggregation_request(round_=round_)  # v3 runs first

    assert round_aggregate(round_id=round_.pk, version=stale.version) == 0

    stale.refresh_from_db()
    assert stale.status == "superseded"
    assert set(Aggregate.objects.filter(round=round_).values_list("run__version", flat=True)) == {3}


def test_a_soft_time_limit_marks_the_run_failed_and_a_retry_completes_it(
        round1, django_capture_on_commit_callbacks, monkeypatch):
    panel_answers(round1)
    real_compute = runs.compute

    def too_slow(**kwargs):
        raise SoftTimeLimitExceeded("soft time limit (540 s) exceeded")

    monkeypatch.setattr(runs, "compute", too_slow)
    with pytest.raises(SoftTimeLimitExceeded), django_capture_on_commit_callbacks(execute=True):
        round_close(round_=round1)

    run = AggregationRun.objects.get(round=round1)
    assert run.status == "failed" and "soft time limit" in run.error
    assert not Aggregate.objects.filter(round=round1).exists()
    assert Round.objects.get(pk=round1.pk).status == Round.Status.CLOSED
    monkeypatch.setattr(runs, "compute", real_compute)

    assert aggregate_round(round1.pk, 1) > 0

    run.refresh_from_db()
    assert (run.status, run.attempts, run.error) == ("done", 2, "")


def test_the_tasks_carry_soft_and_hard_time_limits_and_late_acks():
    from surveys import tasks

    for task in (tasks.aggregate_round, tasks.aggregate_chunk, tasks.aggregate_assemble,
                 tasks.aggregate_live):
        assert task.acks_late is True
        assert 0 < task.soft_time_limit < task.time_limit


def test_the_chunked_path_writes_exactly_what_the_single_task_writes(
        study, django_capture_on_commit_callbacks):
    first = round_open(round_=round_create(study=study))
    experts = panel_answers(first)
    closed(first, django_capture_on_commit_callbacks)
    second = round_open(round_=round_create(study=study))
    panel_answers(second, seed=1)
    for expert in experts:  # round 2 revisits round 1's experts, so stability is defined
        response_submit(expert=expert, round_=second, answers={
            "agree": ItemAnswer(values={"": 4}), "dims": ItemAnswer(
                values={"desirability": 3, "feasibility": 4})})
    second = closed(second, django_capture_on_commit_callbacks)
    single = snapshot(second)
    single_panel = AggregationRun.objects.get(round=second, version=1).panel

    run = aggregation_request(round_=second, enqueue=False)
    with django_capture_on_commit_callbacks(execute=True):
        aggregate_round(second.pk, run.version, chunk_answers=40)

    run.refresh_from_db()
    assert run.status == "done" and run.chunks >= 3 and run.chunks_done == run.chunks
    assert run.answers == AggregationRun.objects.get(round=second, version=1).answers
    assert AggregationChunk.objects.filter(run=run).count() == run.chunks
    assert snapshot(second) == single  # bit for bit, extra statistics included
    assert run.panel == single_panel
    a = Aggregate.objects.get(round=second, item__code="agree", group="", dimension="")
    assert a.extra["stability_pairs"] == 8  # the no-opinion expert of round 1 is no pair


def test_items_are_partitioned_into_chunks_of_similar_size():
    counts = {1: 50, 2: 40, 3: 30, 4: 20, 5: 10}

    parts = partition(counts, chunk_answers=50)  # 150 answers -> 3 parts

    assert sorted(sum(counts[i] for i in part) for part in parts) == [50, 50, 50]
    assert sorted(i for part in parts for i in part) == [1, 2, 3, 4, 5]
    assert partition({7: 3}, chunk_answers=1) == [[7]]  # never more parts than items


def test_expertise_weights_come_from_the_theme_of_each_item(
        round1, django_capture_on_commit_callbacks):
    study = round1.study
    theme_one = study.themes.get(code="one")
    values = [2, 2, 5]  # the third expert rates their expertise on theme one at 5, others at 1
    for k, value in enumerate(values):
        expert = expert_create(study=study, name=f"W{k}", email=f"w{k}@example.org", group_code="RU")
        expertise_save(expert=expert, levels={theme_one.pk: 5 if k == 2 else 1})
        response_submit(expert=expert, round_=round1, answers={"agree": ItemAnswer(values={"": value})})

    a = Aggregate.objects.get(round=closed(round1, django_capture_on_commit_callbacks),
                              item__code="agree", group="", dimension="")

    # Unweighted median 2, 1 of 3 agree. Weighted 2 (1), 2 (1), 5 (5): total 7, half 3.5,
    # cumulative 1 2 7 -> 5; agreeing weight 5 of 7.
    assert (a.median, a.extra["w_median"], a.extra["w_n"]) == (2, 5, 3)
    assert a.pct_agree == pytest.approx(100 / 3)
    assert a.extra["w_pct_agree"] == pytest.approx(500 / 7)


@override_settings(AGGREGATION_CHUNK_ANSWERS=10)
def test_the_threshold_setting_switches_to_chunks(round1, django_capture_on_commit_callbacks):
    panel_answers(round1)

    round_ = closed(round1, django_capture_on_commit_callbacks)

    run = AggregationRun.objects.get(round=round_)
    assert run.status == "done" and run.chunks > 1
    assert Aggregate.objects.filter(round=round_, item__code="agree", group="").get().n == 8

"""Real-Time Delphi: debounced live statistics, dated snapshots and stability between them."""

import time
import uuid

import pytest

from surveys.models import Aggregate, AggregationRun, Round, Study
from surveys.selectors import live_aggregates, live_round
from surveys.services.aggregation import live_snapshot
from surveys.services.panel import expert_create
from surveys.services.responses import ItemAnswer, response_submit
from surveys.services.rounds import round_create, round_open
from surveys.services.studies import study_load
from tests.conftest import need_service, small_study_data, wait_for


def realtime_study(slug: str = "live") -> tuple[Study, Round]:
    data = small_study_data(slug) | {"mode": "realtime", "min_cell": 1}
    study = study_load(data=data)
    return study, round_open(round_=round_create(study=study))


def panel(study, n: int) -> list:
    return [expert_create(study=study, name=f"L{k}", email=f"l{k}@example.org",
                          group_code=("RU", "US", "WE")[k % 3]) for k in range(n)]


def agree(value) -> dict:
    return {"agree": ItemAnswer(values={"": value})}


def live_runs(round_) -> list[AggregationRun]:
    return list(AggregationRun.objects.filter(round=round_, kind="live").order_by("version"))


def panel_row(study, code: str = "agree") -> Aggregate | None:
    item = study.items.get(code=code)
    return live_aggregates(study).get((item.pk, ""))


@pytest.mark.django_db
def test_a_burst_of_100_submissions_schedules_one_recomputation(django_capture_on_commit_callbacks):
    study, live = realtime_study()
    experts = panel(study, 100)
    with django_capture_on_commit_callbacks(execute=False) as touched:
        for k, expert in enumerate(experts):
            response_submit(expert=expert, round_=live, answers=agree(1 + k % 5))

    with django_capture_on_commit_callbacks(execute=False) as enqueued:
        for callback in touched:  # the submissions commit, one after the other
            callback()

    assert len(touched) == 100
    assert len(enqueued) == 1  # 99 submissions joined the recomputation already waiting
    assert [run.status for run in live_runs(live)] == ["pending"]
    with django_capture_on_commit_callbacks(execute=True):
        enqueued[0]()  # the debounce window ends and the worker recomputes once

    assert [run.status for run in live_runs(live)] == ["done"]
    row = panel_row(study)
    assert (row.n, row.median, row.pct_agree) == (100, 3, 40)  # 20 of each of 1..5
    assert row.run.kind == "live"
    assert Round.objects.get(pk=live.pk).status == Round.Status.OPEN  # live runs never close it


@pytest.mark.django_db
def test_a_revised_answer_refreshes_the_live_statistics(django_capture_on_commit_callbacks):
    study, live = realtime_study()
    alice, bob = panel(study, 2)
    with django_capture_on_commit_callbacks(execute=True):
        response_submit(expert=alice, round_=live, answers=agree(2))
        response_submit(expert=bob, round_=live, answers=agree(4))
    assert panel_row(study).median == 3

    with django_capture_on_commit_callbacks(execute=True):
        response_submit(expert=alice, round_=live, answers=agree(5))

    row = panel_row(study)
    assert (row.median, row.pct_agree) == (4.5, 100)
    assert row.run.version == max(run.version for run in live_runs(live))


@pytest.mark.django_db
def test_a_classic_study_schedules_no_live_statistics(round1, alice, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response_submit(expert=alice, round_=round1, answers=agree(4))

    assert not AggregationRun.objects.exists()
    assert live_round(round1.study) is None and live_aggregates(round1.study) == {}


@pytest.mark.django_db
def test_dated_snapshots_carry_answers_forward_and_measure_stability_between_them(
        django_capture_on_commit_callbacks):
    study, first = realtime_study()
    experts = panel(study, 5)
    with django_capture_on_commit_callbacks(execute=True):
        for expert, value in zip(experts, [1, 2, 4, 4, 5], strict=True):
            response_submit(expert=expert, round_=first, answers=agree(value) | {
                "prob": ItemAnswer(values={"": 50}, rationale="Because.")})

    with django_capture_on_commit_callbacks(execute=False) as pending:
        second = live_snapshot(study=study)
    # Until the new live round is recomputed, the snapshot's own figures are shown.
    assert panel_row(study).round_id == first.pk
    with django_capture_on_commit_callbacks(execute=True):
        for callback in pending:
            callback()

    first.refresh_from_db()
    assert (first.status, second.status, second.number) == ("aggregated", "open", 2)
    snap = AggregationRun.objects.get(round=first, kind="round")
    assert snap.version > max(run.version for run in live_runs(first))  # after the live ones
    assert first.closed_at is not None
    carried = Aggregate.objects.get(round=second, item__code="agree", group="")
    assert (carried.n, carried.median) == (5, 4)  # every answer came along to round 2
    assert second.responses.filter(status="submitted").count() == 5
    assert second.responses.first().rationales.get().text == "Because."
    assert panel_row(study).round_id == second.pk

    with django_capture_on_commit_callbacks(execute=True):
        for expert, value in zip(experts[:2], [2, 3], strict=True):  # two experts move up
            response_submit(expert=expert, round_=second, answers=agree(value))
        live_snapshot(study=study)

    moved = Aggregate.objects.get(round=second, item__code="agree", group="", dimension="")
    # 1 2 4 4 5 -> 2 3 4 4 5: two of five changed; median 4 both times.
    assert (moved.extra["stability_pairs"], moved.extra["pct_changed"]) == (5, 40)
    assert moved.median_change == 0
    assert moved.run.kind == "round"
    assert live_round(study).number == 3


@pytest.mark.django_db
def test_a_live_run_that_arrives_after_the_round_closed_writes_nothing(
        django_capture_on_commit_callbacks):
    from surveys.services.aggregation import live_recompute, live_schedule

    study, live = realtime_study()
    alice = panel(study, 1)[0]
    with django_capture_on_commit_callbacks(execute=False):
        response_submit(expert=alice, round_=live, answers=agree(4))
        late = live_schedule(round_id=live.pk)
    with django_capture_on_commit_callbacks(execute=True):
        live_snapshot(study=study)

    assert live_recompute(run_id=late.pk) == 0

    late.refresh_from_db()
    assert late.status == "superseded"
    assert set(Aggregate.objects.filter(round=live).values_list("run__kind", flat=True)) == {"round"}


@pytest.mark.worker
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_coalesces_a_burst_and_is_fresh_within_about_two_seconds(celery_worker):
    need_service(celery_worker is not None, "a Celery broker (only a worker can debounce)")
    study, live = realtime_study(f"live-{uuid.uuid4().hex[:8]}")
    experts = panel(study, 100)

    for k, expert in enumerate(experts):  # each submission commits on its own
        response_submit(expert=expert, round_=live, answers=agree(1 + k % 5))
    last_commit = time.monotonic()

    wait_for(lambda: (row := panel_row(study)) is not None and row.n == 100, timeout=10,
             what="the live statistics to include all 100 submissions")
    fresh_after = time.monotonic() - last_commit
    runs = live_runs(live)
    assert fresh_after < 3.0, f"live statistics took {fresh_after:.1f} s"
    assert 1 <= len(runs) <= 8, [run.status for run in runs]
    assert panel_row(study).median == 3


@pytest.mark.django_db
def test_the_take_snapshot_command(django_capture_on_commit_callbacks):
    from io import StringIO

    from django.core.management import CommandError, call_command

    study, live = realtime_study()
    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("take_snapshot", "--study", study.slug, stdout=out)

    assert "taken as round 1; round 2 is now live" in out.getvalue()
    classic = study_load(data=small_study_data("classic"))
    with pytest.raises(CommandError, match="Only a Real-Time study"):
        call_command("take_snapshot", "--study", classic.slug)

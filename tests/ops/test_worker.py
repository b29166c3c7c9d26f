"""Closing a round gets it aggregated by the worker once the close commits, exactly once.

On the embedded default (no broker) the task runs in-process when the close commits; with
PostgreSQL and a broker a real `celery worker` process does it, so the test only polls.
"""

import uuid

import pytest

from surveys.models import Aggregate, AggregationRun, AuditEvent, Round
from surveys.services.aggregation import aggregation_request
from surveys.services.panel import expert_create
from surveys.services.responses import ItemAnswer, response_save_draft, response_submit
from surveys.services.rounds import round_close, round_create, round_open
from surveys.services.studies import study_load
from surveys.tasks import aggregate_round
from tests.conftest import small_study_data, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def _snapshot(round_id: int) -> list[tuple]:
    return sorted(Aggregate.objects.filter(round_id=round_id).values_list(
        "item__code", "dimension", "group", "n", "no_opinion", "median", "q1", "q3"))


def _aggregations(study) -> int:
    return AuditEvent.objects.filter(study=study, action="round_aggregated").count()


@pytest.fixture
def closed_round(celery_worker):
    """A round of a fresh study that five experts answered, closed and left to the worker."""
    study = study_load(data=small_study_data(f"worker-{uuid.uuid4().hex[:8]}"))
    round_ = round_open(round_=round_create(study=study))
    groups = ["RU", "RU", "US", "US", "WE", "WE"]
    values = [1, 2, 4, 4, 5, None]
    for k, (group, value) in enumerate(zip(groups, values, strict=True)):
        expert = expert_create(study=study, name=f"W{k}", email=f"w{k}@example.org",
                               group_code=group)
        agree = ItemAnswer(no_opinion=True) if value is None else ItemAnswer(values={"": value})
        response_submit(expert=expert, round_=round_, answers={
            "agree": agree, "prob": ItemAnswer(values={"": [90, 10, 40, 20, 50, 50][k]})})
    drafter = expert_create(study=study, name="Drafter", email="d@example.org", group_code="WE")
    response_save_draft(expert=drafter, round_=round_, answers={"agree": ItemAnswer(values={"": 1})})

    round_close(round_=round_)  # commits here; the aggregation is enqueued on that commit

    wait_for(lambda: Round.objects.get(pk=round_.pk).status == Round.Status.AGGREGATED,
             what="the worker to aggregate the closed round")
    return Round.objects.get(pk=round_.pk)


def test_worker_aggregates_a_closed_round_with_hand_worked_figures(closed_round):
    a = Aggregate.objects.get(round=closed_round, item__code="agree", group="", dimension="")
    # Sorted 1 2 4 4 5 (the no-opinion and the draft do not count): q1 at position 1 -> 2,
    # q3 at position 3 -> 4; mean 16/5; SD = sqrt(10.8 / 4); 3 of 5 agree.
    assert (a.n, a.no_opinion, a.median, a.q1, a.q3, a.iqr) == (5, 1, 4, 2, 4, 2)
    assert a.mean == pytest.approx(3.2)
    assert a.sd == pytest.approx(2.7 ** 0.5)
    assert a.pct_agree == pytest.approx(60.0)
    assert a.verdict == "none"
    prob = Aggregate.objects.get(round=closed_round, item__code="prob", group="", dimension="")
    # Sorted 10 20 40 50 50 90: median between 40 and 50 = 45; q1 at 1.25 -> 20 + 0.25*20 = 25;
    # q3 at 3.75 -> 50 + 0.75*0 = 50.
    assert (prob.n, prob.q1, prob.median, prob.q3) == (6, 25, 45, 50)
    ru = Aggregate.objects.get(round=closed_round, item__code="agree", group="RU", dimension="")
    assert (ru.n, ru.median) == (2, 1.5)


def test_running_the_aggregation_again_leaves_one_snapshot(closed_round):
    before = _snapshot(closed_round.pk)
    assert _aggregations(closed_round.study) == 1

    aggregate_round.delay(closed_round.pk, 1)  # a retry or a redelivered message of version 1
    # A new version (e.g. after a fix) is computed again and replaces the snapshot.
    aggregation_request(round_=closed_round)

    wait_for(lambda: _aggregations(closed_round.study) == 2, what="the second aggregation")
    assert _snapshot(closed_round.pk) == before
    assert Aggregate.objects.filter(round=closed_round).count() == len(before)
    assert set(Aggregate.objects.filter(round=closed_round).values_list(
        "run__version", flat=True)) == {2}
    runs = AggregationRun.objects.filter(round=closed_round).order_by("version")
    assert [(r.version, r.status, r.attempts) for r in runs] == [(1, "done", 1), (2, "done", 1)]

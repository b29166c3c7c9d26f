"""Reading two rounds for the aggregation on PostgreSQL: the previous round is read on a second
connection while the round's statistics run; the result is the one read in sequence, and an
error meanwhile closes that connection."""

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.db import connection, transaction

from surveys.models import Round
from surveys.services.aggregation import reading, round_aggregate, runs
from surveys.services.aggregation import statistics as stats
from surveys.services.panel import expert_create
from surveys.services.responses import ItemAnswer, response_submit
from surveys.services.rounds import round_close, round_create, round_open
from tests.conftest import need_service, on_postgres

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def round2(study, django_capture_on_commit_callbacks) -> Round:
    """Nine experts answer round 1 and round 2, several changing their minds; both closed,
    round 1 aggregated in this process (no worker needed)."""
    need_service(on_postgres(), "PostgreSQL")
    experts = [expert_create(study=study, name=f"P{k}", email=f"p{k}@example.org",
                             group_code=("RU", "US", "WE")[k % 3]) for k in range(9)]
    rounds = []
    for number, agree in ((1, [1, 2, 4, 4, 5, 3, 3, 4, 5]), (2, [2, 2, 4, 5, 5, 4, 3, 4, 4])):
        round_ = round_open(round_=round_create(study=study))
        for k, expert in enumerate(experts):
            response_submit(expert=expert, round_=round_, answers={
                "agree": ItemAnswer(values={"": agree[k]}),
                "dims": ItemAnswer(values={"desirability": 1 + (k + number) % 5,
                                           "feasibility": 5 - k % 3}),
                "prob": ItemAnswer(values={"": 10.0 * k + number}),
                "rank": ItemAnswer(values=dict(zip("abc", [[1, 2, 3], [2, 1, 3], [3, 2, 1]][k % 3],
                                                  strict=True))),
            })
        with django_capture_on_commit_callbacks(execute=False):
            round_close(round_=round_)
        if number == 1:
            round_aggregate(round_id=round_.pk)
        rounds.append(round_)
    return Round.objects.select_related("study").get(pk=rounds[1].pk)


def test_reading_the_previous_round_meanwhile_gives_what_reading_in_turn_gives(round2):
    run = runs.AggregationRun(round=round2, version=1)
    meanwhile = runs.compute(run=run, round_=round2)  # no transaction: two connections
    with transaction.atomic():  # in a transaction: one connection, one round after the other
        in_turn = runs.compute(run=run, round_=round2)

    def key(row):
        return (row["item"], row["dimension"], row["group"])

    assert sorted(meanwhile, key=key) == sorted(in_turn, key=key)
    agree = next(r for r in meanwhile if key(r) == ("agree", "", ""))
    # Round 1 -> 2: 1->2, 4->5, 3->4, 5->4 changed, five did not: 4 of 9 pairs moved.
    assert agree["stability_pairs"] == 9
    assert agree["pct_changed"] == pytest.approx(400 / 9)


def test_an_error_while_the_previous_round_is_read_closes_its_connection(round2, monkeypatch):
    run = runs.AggregationRun(round=round2, version=1)
    opened = []
    real = reading._Pending

    def pending(statement):
        opened.append(real(statement))
        return opened[-1]

    def stopped(*args, **kwargs):
        raise SoftTimeLimitExceeded("soft time limit exceeded")

    monkeypatch.setattr(reading, "_Pending", pending)
    monkeypatch.setattr(stats, "item_statistics", stopped)
    with pytest.raises(SoftTimeLimitExceeded):
        runs.compute(run=run, round_=round2)

    assert len(opened) == 1  # the previous round was being read on a second connection
    assert opened[0].other.closed and not opened[0].thread.is_alive()
    with connection.cursor() as cursor:  # and Django's own connection still works
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)


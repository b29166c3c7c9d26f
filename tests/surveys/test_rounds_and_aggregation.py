"""Rounds from draft to aggregated, and the feedback snapshot checked against hand-worked figures."""

import math

import pytest
from django.db import IntegrityError, transaction

from surveys.errors import ServiceError
from surveys.models import Aggregate, Round, Study
from surveys.services.aggregation import round_aggregate
from surveys.services.panel import expert_create
from surveys.services.responses import ItemAnswer, response_save_draft, response_submit
from surveys.services.rounds import round_close, round_create, round_open
from surveys.tasks import aggregate_round

pytestmark = pytest.mark.django_db


def experts(study, groups: str) -> list:
    """One expert per letter group code in e.g. "RU RU US", named by position."""
    return [expert_create(study=study, name=f"Expert {k}", email=f"e{k}@example.org",
                          group_code=code) for k, code in enumerate(groups.split())]


def submit(round_, panel, code: str, values: list) -> None:
    """Each expert submits one value for the item (None = no opinion)."""
    for expert, value in zip(panel, values, strict=True):
        answer = ItemAnswer(no_opinion=True) if value is None else ItemAnswer(values={"": value})
        response_submit(expert=expert, round_=round_, answers={code: answer})


def close(round_, capture) -> Round:
    """Close the round and let the on-commit aggregation run, as after a real commit."""
    with capture(execute=True):
        round_close(round_=round_)
    return Round.objects.get(pk=round_.pk)


def agg(round_, code: str, group: str = "", dimension: str = "") -> Aggregate:
    return Aggregate.objects.get(round=round_, item__code=code, group=group, dimension=dimension)


# Lifecycle -------------------------------------------------------------------------------


def test_a_round_goes_from_draft_to_open_to_closed_to_aggregated(
        study, django_capture_on_commit_callbacks):
    round_ = round_create(study=study)
    assert (round_.number, round_.status) == (1, Round.Status.DRAFT)

    round_ = round_open(round_=round_)
    assert round_.status == Round.Status.OPEN and round_.opens_at is not None
    assert Study.objects.get(pk=study.pk).status == Study.Status.ACTIVE

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        closed = round_close(round_=round_)
    assert closed.status == Round.Status.CLOSED and closed.closed_at is not None

    for callback in callbacks:
        callback()
    assert Round.objects.get(pk=round_.pk).status == Round.Status.AGGREGATED


def test_only_one_round_of_a_study_is_open_at_a_time(round1):
    # round_create refuses a second round this early, so the draft is made directly.
    second = Round.objects.create(study=round1.study, number=2)

    with pytest.raises(ServiceError, match="Another round of this study is open"):
        round_open(round_=second)

    assert Round.objects.get(pk=second.pk).status == Round.Status.DRAFT


def test_an_open_round_cannot_be_opened_again_nor_a_draft_closed(study, round1):
    with pytest.raises(ServiceError, match="not a draft"):
        round_open(round_=round1)
    draft = Round.objects.create(study=study, number=2)
    with pytest.raises(ServiceError, match="not open"):
        round_close(round_=draft)


def test_round_two_cannot_be_created_before_round_one_is_aggregated(
        round1, django_capture_on_commit_callbacks):
    with pytest.raises(ServiceError, match="Round 1 must be closed and aggregated"):
        round_create(study=round1.study)
    with django_capture_on_commit_callbacks(execute=False):
        round_close(round_=round1)  # closed, but its aggregation has not run
    with pytest.raises(ServiceError, match="Round 1 must be closed and aggregated"):
        round_create(study=round1.study)

    assert round1.study.rounds.count() == 1


def test_round_two_carries_round_ones_items(study, django_capture_on_commit_callbacks):
    chosen = list(study.items.filter(code__in=["agree", "prob"]))
    first = round_open(round_=round_create(study=study, items=chosen))
    close(first, django_capture_on_commit_callbacks)

    second = round_create(study=study)

    assert second.number == 2
    assert set(second.items.values_list("code", flat=True)) == {"agree", "prob"}


# Aggregation is enqueued on commit -------------------------------------------------------


def test_closing_enqueues_one_aggregation_that_waits_for_the_commit(
        round1, alice, django_capture_on_commit_callbacks):
    submit(round1, [alice], "agree", [4])

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        round_close(round_=round1)
        assert not Aggregate.objects.exists()

    assert len(callbacks) == 1
    assert Round.objects.get(pk=round1.pk).status == Round.Status.CLOSED
    assert not Aggregate.objects.exists()
    callbacks[0]()
    assert agg(round1, "agree").median == 4


def test_a_rolled_back_close_enqueues_nothing(round1, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            round_close(round_=round1)
            raise RuntimeError("the request failed after the close")

    assert callbacks == []
    assert Round.objects.get(pk=round1.pk).status == Round.Status.OPEN


# Hand-worked figures ---------------------------------------------------------------------


def test_agreement_aggregate_matches_hand_worked_figures(round1, django_capture_on_commit_callbacks):
    panel = experts(round1.study, "RU RU US US WE WE")
    submit(round1, panel, "agree", [1, 2, 4, 4, 5, None])
    late = expert_create(study=round1.study, name="Late", email="late@example.org", group_code="RU")
    response_save_draft(expert=late, round_=round1, answers={"agree": ItemAnswer(values={"": 1})})

    round_ = close(round1, django_capture_on_commit_callbacks)

    a = agg(round_, "agree")
    # Sorted 1 2 4 4 5; R type 7: q1 at position (5-1)*0.25 = 1 -> 2, q3 at 3 -> 4.
    assert (a.n, a.no_opinion) == (5, 1)  # the draft's 1 is not counted
    assert (a.median, a.q1, a.q3, a.iqr) == (4, 2, 4, 2)
    assert a.mean == pytest.approx(3.2)  # 16 / 5
    # Deviations -2.2 -1.2 0.8 0.8 1.8; squares 4.84+1.44+0.64+0.64+3.24 = 10.8; /(5-1) = 2.7.
    assert a.sd == pytest.approx(math.sqrt(2.7))
    assert a.pct_agree == pytest.approx(60.0)  # 4, 4, 5 of five
    assert {int(k): v for k, v in a.distribution.items()} == {1: 1, 2: 1, 3: 0, 4: 2, 5: 1}
    assert a.verdict == "none"  # 60 % < 75 % and IQR 2 > 1
    assert a.median_change is None  # no earlier round
    ru, us, we = agg(round_, "agree", "RU"), agg(round_, "agree", "US"), agg(round_, "agree", "WE")
    assert (ru.n, ru.median, ru.mean) == (2, 1.5, 1.5)
    assert (us.n, us.median, us.pct_agree) == (2, 4, 100)
    assert (we.n, we.no_opinion, we.median) == (1, 1, 5)
    assert Aggregate.objects.filter(round=round_, item__code="agree").count() == 4


def test_consensus_is_met_when_agreement_is_high_and_the_iqr_narrow(
        round1, django_capture_on_commit_callbacks):
    panel = experts(round1.study, "RU US WE RU US")
    submit(round1, panel, "agree", [4, 4, 4, 5, 5])

    a = agg(close(round1, django_capture_on_commit_callbacks), "agree")

    # Sorted 4 4 4 5 5: median 4, q1 (pos 1) 4, q3 (pos 3) 5, IQR 1 <= 1; 100 % agree >= 75 %.
    assert (a.median, a.q1, a.q3, a.iqr, a.pct_agree) == (4, 4, 5, 1, 100)
    assert a.verdict == "agree"


def test_estimates_get_quartiles_by_linear_interpolation(round1, django_capture_on_commit_callbacks):
    panel = experts(round1.study, "RU US WE WE")
    submit(round1, panel, "prob", [90, 10, 40, 20])
    submit(round1, panel, "year", [2060, 2020, 2040, 2030])

    round_ = close(round1, django_capture_on_commit_callbacks)

    prob = agg(round_, "prob")
    # Sorted 10 20 40 90. Positions (n-1)p = 0.75, 1.5, 2.25:
    # q1 = 10 + 0.75*10 = 17.5; median = 20 + 0.5*20 = 30; q3 = 40 + 0.25*50 = 52.5.
    assert (prob.n, prob.q1, prob.median, prob.q3) == (4, 17.5, 30, 52.5)
    assert prob.iqr == pytest.approx(35) and prob.mean == pytest.approx(40)
    assert prob.pct_agree is None and prob.verdict == ""
    year = agg(round_, "year")
    # Sorted 2020 2030 2040 2060: q1 = 2020 + 0.75*10 = 2027.5, median 2035, q3 = 2040 + 0.25*20.
    assert (year.q1, year.median, year.q3) == (2027.5, 2035, 2045)
    assert agg(round_, "prob", "WE").median == 30  # 40 and 20


def test_rankings_get_positions_and_kendalls_w(round1, django_capture_on_commit_callbacks):
    panel = experts(round1.study, "RU US WE WE")
    same = ItemAnswer(values={"a": 1, "b": 2, "c": 3})
    for expert in panel[:3]:
        response_submit(expert=expert, round_=round1, answers={"rank": same})
    response_submit(expert=panel[3], round_=round1, answers={"rank": ItemAnswer(no_opinion=True)})

    round_ = close(round1, django_capture_on_commit_callbacks)

    first, last = agg(round_, "rank", dimension="a"), agg(round_, "rank", dimension="c")
    assert (first.n, first.no_opinion, first.median, last.median) == (3, 1, 1, 3)
    # Three identical complete rankings of 3 options: perfect concordance, W = 1, df = 2;
    # the expert with no opinion ranks nothing and is left out, not counted as an option.
    assert first.extra["kendall_w"] == pytest.approx(1.0)
    assert (first.extra["df"], first.extra["n_experts"]) == (2, 3)
    assert set(Aggregate.objects.filter(round=round_, item__code="rank", group="")
               .values_list("dimension", flat=True)) == {"a", "b", "c"}


# Idempotence -----------------------------------------------------------------------------


def test_aggregating_twice_leaves_one_snapshot(round1, django_capture_on_commit_callbacks):
    panel = experts(round1.study, "RU US WE")
    submit(round1, panel, "agree", [2, 3, 5])
    round_ = close(round1, django_capture_on_commit_callbacks)
    rows = sorted(Aggregate.objects.filter(round=round_).values_list(
        "item__code", "dimension", "group", "n", "median"))

    written = round_aggregate(round_id=round_.pk)
    aggregate_round(round_.pk)

    assert written == len(rows)
    assert sorted(Aggregate.objects.filter(round=round_).values_list(
        "item__code", "dimension", "group", "n", "median")) == rows
    with pytest.raises(IntegrityError), transaction.atomic():
        Aggregate.objects.create(round=round_, item=round_.items.get(code="agree"), n=1)


def test_aggregating_an_open_round_does_nothing(round1, alice):
    submit(round1, [alice], "agree", [4])

    assert round_aggregate(round_id=round1.pk) == 0
    assert round_aggregate(round_id=10**9) == 0  # a round that no longer exists

    assert not Aggregate.objects.exists()
    assert Round.objects.get(pk=round1.pk).status == Round.Status.OPEN


def test_median_change_in_round_two_is_the_difference_from_round_one(
        round1, django_capture_on_commit_callbacks):
    panel = experts(round1.study, "RU RU US US WE")
    submit(round1, panel, "agree", [1, 2, 4, 4, 5])  # median 4; RU 1.5
    close(round1, django_capture_on_commit_callbacks)
    round2 = round_open(round_=round_create(study=round1.study))
    submit(round2, panel, "agree", [2, 3, 3, 4, 5])  # median 3; RU 2.5

    round2 = close(round2, django_capture_on_commit_callbacks)

    assert agg(round2, "agree").median_change == pytest.approx(3 - 4)
    assert agg(round2, "agree", "RU").median_change == pytest.approx(2.5 - 1.5)
    assert agg(round2, "agree", "WE").median_change == pytest.approx(5 - 5)


def test_round_errors_read_in_the_organizers_language(study, round1):
    from django.utils import translation

    with translation.override("ru"), pytest.raises(
            ServiceError, match="Тур 1 — в состоянии «открыт», а не черновик"):
        round_open(round_=round1)
    with translation.override("ru"), pytest.raises(
            ServiceError, match="Сначала нужно закрыть тур 1"):
        round_create(study=study)

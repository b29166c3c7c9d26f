"""A round that one expert submitted aggregates like any other: the panel's agreement
statistics are blank (nothing to compare), never an error that leaves the round unaggregated."""

import math

import numpy as np

from analysis.agreement import krippendorff_alpha_counts
from surveys.models import AggregationRun, Round
from surveys.services.responses import ItemAnswer, response_submit
from tests.workspace_helpers import close_and_aggregate


def test_alpha_is_blank_when_no_unit_has_two_answers():
    one_expert = np.array([[0, 1, 0, 0, 0], [0, 0, 0, 1, 0], [1, 0, 0, 0, 0]])
    assert math.isnan(krippendorff_alpha_counts(one_expert, value_domain=[1, 2, 3, 4, 5]))
    # Two experts on one unit: alpha is defined (1 - observed / expected disagreement).
    two = np.array([[0, 1, 0, 1, 0], [0, 0, 0, 1, 0]])
    assert not math.isnan(krippendorff_alpha_counts(two, value_domain=[1, 2, 3, 4, 5]))


def test_a_round_one_expert_submitted_is_aggregated(round1, alice):
    # Two rated items with different values: alpha has two values but no unit with two answers.
    response_submit(expert=alice, round_=round1, answers={
        "agree": ItemAnswer(values={"": 4}),
        "dims": ItemAnswer(values={"desirability": 2, "feasibility": 5})})

    closed = close_and_aggregate(round1)

    assert closed.status == Round.Status.AGGREGATED
    assert AggregationRun.objects.filter(round=round1).exists()

"""Differences between stakeholder groups, checked against examples worked by hand."""

import math

import numpy as np
import pandas as pd
import pytest

from analysis import group_differences


def _answers(groups_and_values, *, item="q1", round_=1) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"expert": f"{item}-e{i}", "round": round_, "item": item, "group": g, "value": v}
            for i, (g, v) in enumerate(groups_and_values)
        ]
    )


def _row(result: pd.DataFrame, item: str = "q1") -> pd.Series:
    return result.loc[result["item"].eq(item)].iloc[0]


def test_two_groups_use_an_exact_mann_whitney_test():
    answers = _answers(
        [("nurses", 1), ("nurses", 2), ("nurses", 3), ("patients", 4), ("patients", 5)]
    )
    row = _row(group_differences(answers, round_=1))
    assert row["test"] == "mann-whitney"
    # U of "nurses": no nurse answer exceeds a patient answer, U = 0.
    # Exact: 1 of C(5,2) = 10 arrangements is this extreme; two-sided p = 2/10.
    assert row["statistic"] == pytest.approx(0.0)
    assert row["p"] == pytest.approx(0.2)
    assert row["n_groups"] == 2
    assert row["n"] == 5


def test_mann_whitney_statistic_belongs_to_the_group_that_sorts_first():
    answers = _answers([("a", 4), ("a", 5), ("b", 1), ("b", 2), ("b", 3)])
    row = _row(group_differences(answers, round_=1))
    assert row["statistic"] == pytest.approx(6.0)  # all 2*3 pairs have a > b


def test_mann_whitney_with_ties_uses_the_corrected_normal_approximation():
    answers = _answers([("a", 1), ("a", 2), ("a", 2), ("b", 2), ("b", 3)])
    row = _row(group_differences(answers, round_=1))
    # U_a = 0 + 0 + .5 + .5 = 1 (ties count half); mean n1 n2 / 2 = 3.
    # var = n1 n2 / 12 * (N + 1 - sum(t^3 - t) / (N (N - 1))) = 6/12 * (6 - 24/20) = 2.4.
    # z = (|1 - 3| - .5) / sqrt(2.4) = .968246; p = 2 (1 - Phi(z)) = erfc(z / sqrt 2).
    assert row["statistic"] == pytest.approx(1.0)
    assert row["p"] == pytest.approx(math.erfc(1.5 / math.sqrt(2.4) / math.sqrt(2)))


def test_three_groups_use_kruskal_wallis():
    answers = _answers([("a", 1), ("a", 2), ("b", 3), ("b", 4), ("c", 5), ("c", 6)])
    row = _row(group_differences(answers, round_=1))
    assert row["test"] == "kruskal-wallis"
    # Rank sums 3, 7, 11 with n=2 each, N=6:
    # H = 12/(6*7) * (9 + 49 + 121)/2 - 3*7 = 179/7 - 21 = 32/7.
    assert row["statistic"] == pytest.approx(32 / 7)
    assert row["p"] == pytest.approx(math.exp(-16 / 7))  # chi2 sf with 2 df = exp(-H/2)
    assert row["n_groups"] == 3


def test_kruskal_wallis_with_ties_is_tie_corrected():
    answers = _answers([("a", 1), ("a", 2), ("b", 2), ("b", 3), ("c", 4), ("c", 4)])
    row = _row(group_differences(answers, round_=1))
    # Ranks a 1, 2.5; b 2.5, 4; c 5.5, 5.5; rank sums 3.5, 6.5, 11.
    # H = 12/42 * (12.25 + 42.25 + 121)/2 - 21 = 28.5/7; two ties of 2: C = 1 - 12/210 = 33/35.
    # H / C = 28.5 * 35 / (7 * 33) = 142.5/33 = 4.318182.
    assert row["statistic"] == pytest.approx(142.5 / 33)
    assert row["p"] == pytest.approx(math.exp(-142.5 / 66))


def test_ungrouped_experts_no_opinions_and_other_rounds_are_left_out():
    answers = pd.concat(
        [
            _answers([("a", 1), ("a", 2), ("a", 3), ("b", 4), ("b", 5), ("", 5), ("b", np.nan)]),
            _answers([("a", 5), ("b", 1)], round_=2),
        ]
    )
    row = _row(group_differences(answers, round_=1))
    assert row["statistic"] == pytest.approx(0.0)
    assert row["n"] == 5


def test_items_with_fewer_than_two_groups_are_skipped():
    answers = pd.concat(
        [
            _answers([("a", 1), ("b", 2)]),
            _answers([("a", 1), ("a", 2), ("b", np.nan)], item="q2"),
        ]
    )
    result = group_differences(answers, round_=1)
    assert list(result["item"]) == ["q1"]


def test_a_frame_without_groups_gives_an_empty_result():
    answers = _answers([("", 1), ("", 2)]).drop(columns="group")
    result = group_differences(answers, round_=1)
    assert result.empty
    assert list(result.columns) == ["item", "dimension", "test", "statistic", "p", "n_groups", "n"]

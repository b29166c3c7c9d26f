"""Expertise-weighted median and % agreement, worked by hand."""

import math

import numpy as np
import pandas as pd
import pytest

from analysis.weighted import weighted_summary


def answers(values, weights, item="x", group="") -> pd.DataFrame:
    return pd.DataFrame({"expert": [f"{item}{k}" for k in range(len(values))], "round": 1,
                         "item": item, "dimension": "", "group": group,
                         "value": values, "weight": weights})


def summary(frame, **kwargs) -> dict:
    out = weighted_summary(frame, by=("item",), **kwargs).set_index("item")
    return out.to_dict("index")


def test_equal_weights_give_the_ordinary_median_and_agreement():
    row = summary(answers([1, 2, 4, 4, 5], [3, 3, 3, 3, 3]))["x"]

    # Sorted 1 2 4 4 5, the middle value is 4; 4, 4 and 5 agree: 3 of 5.
    assert (row["w_n"], row["w_total"], row["w_median"]) == (5, 15, 4)
    assert row["w_pct_agree"] == pytest.approx(60.0)


def test_one_heavy_expert_pulls_the_weighted_median_and_agreement():
    row = summary(answers([1, 2, 4, 5], [1, 1, 1, 5]))["x"]

    # Total weight 8, half 4; cumulative 1, 2, 3, 8 first reaches 4 at the value 5.
    # Agreeing weight 1 + 5 = 6 of 8 = 75 %. (Unweighted: median 3, 50 %.)
    assert row["w_median"] == 5
    assert row["w_pct_agree"] == pytest.approx(75.0)


def test_cumulative_weight_exactly_at_half_averages_with_the_next_value():
    row = summary(answers([5, 1, 3], [1, 2, 1]))["x"]

    # Sorted 1 (2), 3 (1), 5 (1): total 4, half 2, reached exactly at 1 -> (1 + 3) / 2.
    assert row["w_median"] == 2
    even = summary(answers([2, 4], [3, 3]))["x"]
    assert even["w_median"] == 3


def test_ties_are_weighted_together():
    row = summary(answers([4, 4, 4, 2], [1, 1, 1, 5]))["x"]

    # Sorted 2 (5), 4, 4, 4: cumulative 5 > half 4 already at 2. Agreeing weight 3 of 8.
    assert row["w_median"] == 2
    assert row["w_pct_agree"] == pytest.approx(37.5)


def test_no_opinion_and_unrated_experts_are_left_out_and_a_single_answer_is_its_own_median():
    row = summary(answers([5, np.nan, 1, 3], [2, 4, np.nan, 0]))["x"]

    # Only the 5 (weight 2) counts: no opinion, a missing weight and a zero weight drop out.
    assert (row["w_n"], row["w_total"], row["w_median"], row["w_pct_agree"]) == (1, 2, 5, 100)


def test_a_key_without_weighted_answers_gets_zero_and_nan():
    frame = pd.concat([answers([4], [2], item="x"), answers([4, 5], [np.nan, np.nan], item="y")])

    rows = summary(frame)

    assert rows["y"]["w_n"] == 0
    assert math.isnan(rows["y"]["w_median"]) and math.isnan(rows["y"]["w_pct_agree"])
    assert rows["x"]["w_median"] == 4


def test_weights_by_group_and_a_nine_point_agreement_threshold():
    frame = pd.concat([answers([7, 9, 2], [1, 1, 2], group="RU"),
                       answers([3, 8], [1, 1], item="x", group="US").assign(expert=["u1", "u2"])])

    out = weighted_summary(frame, agree_min=7, by=("item", "group")).set_index("group")

    # RU: sorted 2 (2), 7, 9: total 4, half 2 reached exactly at 2 -> (2 + 7) / 2 = 4.5;
    # agreeing (>= 7) weight 2 of 4. US: 3 and 8 equal weight -> 5.5, 1 of 2 agree.
    assert out.loc["RU", "w_median"] == 4.5 and out.loc["RU", "w_pct_agree"] == 50
    assert out.loc["US", "w_median"] == 5.5 and out.loc["US", "w_pct_agree"] == 50


def test_a_missing_weight_column_is_refused():
    with pytest.raises(ValueError, match="needs a 'weight' column"):
        weighted_summary(answers([1], [1]).drop(columns="weight"))


def test_categorical_keys_give_the_same_figures_as_text_keys():
    # The platform's frames have categorical keys (grouped by their codes, not by pandas);
    # the hand-worked cases above, with an unobserved category, must not change.
    frame = pd.concat([answers([5, 1, 3], [1, 2, 1], item="x"),
                       answers([1, 2, 4, 5], [1, 1, 1, 5], item="y"),
                       answers([7, 9, 2], [1, 1, 2], item="z", group="RU")], ignore_index=True)
    coded = frame.astype({"item": pd.CategoricalDtype(["w", "x", "y", "z"]),
                          "group": "category", "dimension": "category"})

    text = weighted_summary(frame, by=("item", "group"))
    categorical = weighted_summary(coded, by=("item", "group"))

    assert list(categorical["item"].astype(str)) == ["x", "y", "z"]
    assert list(categorical["w_median"]) == [2, 5, 4.5]  # as worked above
    pd.testing.assert_frame_equal(categorical.astype({"item": str, "group": str}), text)

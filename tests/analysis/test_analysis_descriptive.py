"""Descriptive statistics and consensus measures, checked against figures worked by hand."""

import math

import numpy as np
import pandas as pd
import pytest

from analysis import apmo_cutoff, consensus_met, estimate_summary, rand_ucla, rated_summary


def _answers(values, *, item="q1", round_=1, groups=None) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "expert": [f"{item}-e{i}" for i in range(len(values))],
            "round": round_,
            "item": item,
            "value": values,
        }
    )
    if groups is not None:
        frame["group"] = groups
    return frame


def _row(summary: pd.DataFrame, item: str = "q1") -> pd.Series:
    return summary.loc[summary["item"].eq(item)].iloc[0]


def test_rated_summary_of_a_panel_with_ties_and_one_no_opinion():
    row = _row(rated_summary(_answers([1, 2, 2, 4, 5, np.nan])))
    # Valid answers sorted 1,2,2,4,5 (n=5); the NaN is a no-opinion, not an answer.
    assert row["n"] == 5
    assert row["no_opinion"] == 1
    assert row["median"] == 2
    # Type 7: Q1 at position 0.25*(5-1)=1 -> 2; Q3 at position 3 -> 4; IQR 4-2=2.
    assert row["q1"] == 2
    assert row["q3"] == 4
    assert row["iqr"] == 2
    # mean 14/5=2.8; squares of deviations 3.24+0.64+0.64+1.44+4.84=10.8; var 10.8/4=2.7.
    assert row["mean"] == pytest.approx(2.8)
    assert row["sd"] == pytest.approx(math.sqrt(2.7))
    assert row["cv"] == pytest.approx(math.sqrt(2.7) / 2.8)  # 1.643168/2.8 = 0.586846
    # 4 and 5 agree (2 of 5 = 40%); 1, 2, 2 disagree (3 of 5 = 60%).
    assert row["pct_agree"] == pytest.approx(40.0)
    assert row["pct_disagree"] == pytest.approx(60.0)
    # Tastle-Wierman with mu=2.8, d=4: p=.2 at 1 (1-1.8/4=.55), p=.4 at 2 (1-.8/4=.8),
    # p=.2 at 4 (1-1.2/4=.7), p=.2 at 5 (1-2.2/4=.45):
    # 1 + (.2*-.862496 + .4*-.321928 + .2*-.514573 + .2*-1.152003) = 1 - .634586 = .365414.
    assert row["tastle_wierman"] == pytest.approx(0.365414, abs=1e-6)
    assert row["distribution"] == {1: 1, 2: 2, 3: 0, 4: 1, 5: 1}


def test_quartiles_use_linear_interpolation():
    row = _row(rated_summary(_answers([1, 2, 3, 4])))
    # Type 7 positions 0.75 and 2.25 over 1,2,3,4 -> 1.75 and 3.25 (SPSS type 6: 1.25, 3.75).
    assert row["q1"] == pytest.approx(1.75)
    assert row["q3"] == pytest.approx(3.25)
    assert row["iqr"] == pytest.approx(1.5)
    assert row["median"] == pytest.approx(2.5)


def test_a_single_answer_has_no_sd_and_full_consensus():
    row = _row(rated_summary(_answers([3])))
    assert row["n"] == 1
    assert row["median"] == 3
    assert row["iqr"] == 0
    assert np.isnan(row["sd"])  # ddof=1 needs two answers
    assert np.isnan(row["cv"])
    assert row["tastle_wierman"] == pytest.approx(1.0)  # log2(1 - 0/4) = 0


def test_an_item_with_only_no_opinions_is_kept_with_empty_statistics():
    summary = rated_summary(pd.concat([_answers([4, 5]), _answers([np.nan] * 3, item="q2")]))
    row = _row(summary, "q2")
    assert row["n"] == 0
    assert row["no_opinion"] == 3
    for column in ("median", "q1", "q3", "iqr", "mean", "sd", "cv", "tastle_wierman"):
        assert np.isnan(row[column]), column
    assert np.isnan(row["pct_agree"])
    assert np.isnan(row["pct_disagree"])
    assert row["distribution"] == {1: 0, 2: 0, 3: 0, 4: 0, 5: 0}


def test_tastle_wierman_is_one_for_unanimity():
    row = _row(rated_summary(_answers([4, 4, 4, 4])))
    assert row["tastle_wierman"] == pytest.approx(1.0)


def test_tastle_wierman_is_zero_for_a_split_between_the_extremes():
    row = _row(rated_summary(_answers([1, 1, 5, 5])))
    # mu=3, |1-3|/4 = |5-3|/4 = 0.5, log2(0.5) = -1: 1 + (.5*-1 + .5*-1) = 0.
    assert row["tastle_wierman"] == pytest.approx(0.0, abs=1e-12)


def test_tastle_wierman_of_one_answer_per_scale_point():
    row = _row(rated_summary(_answers([1, 2, 3, 4, 5])))
    # mu=3, d=4: log2(.5)=-1 at 1 and 5, log2(.75)=-.415037 at 2 and 4, 0 at 3;
    # 1 + (2*-1 + 2*-.415037)/5 = 1 - 2.830075/5 = .433985.
    assert row["tastle_wierman"] == pytest.approx(0.433985, abs=1e-6)


def test_tastle_wierman_width_is_that_of_the_scale_not_of_the_answers():
    row = _row(rated_summary(_answers([2, 4])))
    # mu=3, d=5-1=4: 1 + log2(1 - 1/4) = 1 - .415037 = .584963 (with d=4-2 it would be 0).
    assert row["tastle_wierman"] == pytest.approx(0.584963, abs=1e-6)


def test_agreement_thresholds_follow_the_scale():
    summary = rated_summary(
        _answers([7, 6, 5, 2, 1]), scale_min=1, scale_max=7, agree_min=6, disagree_max=2
    )
    row = _row(summary)
    assert row["pct_agree"] == pytest.approx(40.0)  # 7 and 6: 2 of 5
    assert row["pct_disagree"] == pytest.approx(40.0)  # 2 and 1: 2 of 5
    assert row["distribution"] == {1: 1, 2: 1, 3: 0, 4: 0, 5: 1, 6: 1, 7: 1}


def test_per_group_rows():
    answers = _answers([5, 4, 1, 2, np.nan], groups=["a", "a", "b", "b", "b"])
    summary = rated_summary(answers, by=("round", "item", "dimension", "group"))
    assert list(summary["group"]) == ["a", "b"]
    assert list(summary["n"]) == [2, 2]
    assert list(summary["no_opinion"]) == [0, 1]
    assert list(summary["median"]) == [4.5, 1.5]


def test_values_off_the_scale_are_rejected():
    with pytest.raises(ValueError, match="integers from 1 to 5"):
        rated_summary(_answers([1, 6]))
    with pytest.raises(ValueError, match="integers from 1 to 5"):
        rated_summary(_answers([1, 2.5]))


def test_estimate_summary_quartiles_and_deciles():
    row = _row(estimate_summary(_answers([50, 10, 30, 20, 40, np.nan])))
    assert row["n"] == 5
    assert row["no_opinion"] == 1
    assert row["median"] == 30
    assert row["q1"] == 20  # position 1 of 10,20,30,40,50
    assert row["q3"] == 40
    assert row["iqr"] == 20
    assert row["p10"] == pytest.approx(14.0)  # position 0.4: 10 + 0.4*10
    assert row["p90"] == pytest.approx(46.0)  # position 3.6: 40 + 0.6*10
    assert row["mean"] == 30
    assert row["sd"] == pytest.approx(math.sqrt(250.0))  # (400+100+0+100+400)/4 = 250


def _summary_rows(rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["item", "n", "pct_agree", "pct_disagree", "iqr"])


def test_consensus_needs_agreement_and_a_narrow_iqr():
    summary = _summary_rows(
        [
            ("met", 10, 80.0, 10.0, 1.0),
            ("at both bounds", 8, 75.0, 0.0, 1.0),
            ("wide", 10, 80.0, 0.0, 1.5),
            ("too few agree", 10, 70.0, 10.0, 0.5),
            ("nobody answered", 0, np.nan, np.nan, np.nan),
        ]
    )
    assert list(consensus_met(summary)) == [True, True, False, False, False]


def test_apmo_cutoff_counts_majority_opinions_over_all_opinions():
    summary = _summary_rows(
        [
            ("A", 10, 80.0, 10.0, 1.0),  # 8 agree (majority) + 1 disagree = 9 opinions
            ("B", 10, 40.0, 60.0, 1.0),  # 6 disagree (majority) + 4 agree = 10 opinions
            ("C", 10, 30.0, 30.0, 1.0),  # no majority, 3 + 3 = 6 opinions
            ("D", 10, 50.0, 0.0, 1.0),  # exactly half is no majority, 5 opinions
        ]
    )
    # (8 + 6) / (9 + 10 + 6 + 5) = 14/30.
    assert apmo_cutoff(summary) == pytest.approx(14 / 30 * 100)


def test_apmo_cutoff_refuses_to_pool_rounds():
    summary = rated_summary(pd.concat([_answers([4, 5]), _answers([4, 5], round_=2)]))
    with pytest.raises(ValueError, match="one round"):
        apmo_cutoff(summary)


def test_rand_ucla_on_one_answer_per_scale_point():
    row = _row(rand_ucla(_answers([1, 2, 3, 4, 5, 6, 7, 8, 9])))
    # P30 at position 0.3*8=2.4 -> 3.4; P70 at 5.6 -> 6.6.
    assert row["p30"] == pytest.approx(3.4)
    assert row["p70"] == pytest.approx(6.6)
    assert row["ipr"] == pytest.approx(3.2)
    assert row["iprcp"] == pytest.approx(5.0)
    assert row["ai"] == pytest.approx(0.0)
    assert row["ipras"] == pytest.approx(2.35)  # 2.35 + 1.5*0
    assert row["di"] == pytest.approx(3.2 / 2.35)  # 1.3617 > 1: disagreement
    assert bool(row["disagreement"]) is True


def test_rand_ucla_on_an_asymmetric_panel():
    row = _row(rand_ucla(_answers([8, 2, 7, 9, 3, 8, 5, 7])))
    # Sorted 2,3,5,7,7,8,8,9: P30 at 2.1 -> 5 + .1*(7-5) = 5.2; P70 at 4.9 -> 7 + .9*1 = 7.9.
    assert row["p30"] == pytest.approx(5.2)
    assert row["p70"] == pytest.approx(7.9)
    assert row["ipr"] == pytest.approx(2.7)
    assert row["iprcp"] == pytest.approx(6.55)
    assert row["ai"] == pytest.approx(1.55)
    assert row["ipras"] == pytest.approx(4.675)  # 2.35 + 1.5*1.55
    assert row["di"] == pytest.approx(2.7 / 4.675)  # .5775: no disagreement
    assert bool(row["disagreement"]) is False


def test_rand_ucla_needs_a_nine_point_scale():
    with pytest.raises(ValueError, match="integers from 1 to 9"):
        rand_ucla(_answers([0, 5]))

"""Stability between rounds, checked against examples worked by hand."""

import math

import numpy as np
import pandas as pd
import pytest

from analysis import stability


def _two_rounds(pairs, *, item="q1") -> pd.DataFrame:
    """Build answers from (round 1, round 2) values per expert; None means no row at all."""
    rows = [
        {"expert": f"e{i}", "round": round_, "item": item, "value": value}
        for i, both in enumerate(pairs)
        for round_, value in zip((1, 2), both, strict=True)
        if value is not None
    ]
    return pd.DataFrame(rows)


def _row(result: pd.DataFrame, item: str = "q1") -> pd.Series:
    return result.loc[result["item"].eq(item)].iloc[0]


# Differences +1, -2, +3, +4, 0; e5 answered round 1 only.
MOVING = [(1, 2), (3, 1), (1, 4), (1, 5), (3, 3), (2, None)]


def test_stability_of_a_moving_item():
    row = _row(stability(_two_rounds(MOVING), from_round=1, to_round=2))
    assert row["n_pairs"] == 5
    # Zero dropped; |d| ranks 1,2,3,4; W+ = 1+3+4 = 8, W- = 2; statistic min = 2.
    # Exact: 3 of the 2^4 sign patterns have W- <= 2 ({}, {1}, {2}); p = 2*3/16 = .375.
    assert row["wilcoxon_statistic"] == pytest.approx(2.0)
    assert row["wilcoxon_p"] == pytest.approx(0.375)
    assert row["pct_changed"] == pytest.approx(80.0)  # 4 of 5 pairs changed
    # Round 1 (all six): 1,3,1,1,3,2, mean 11/6, SS 25 - 121/6 = 29/6, var 29/30.
    # Round 2: 2,1,4,5,3, mean 3, SS 10, var 2.5.
    cv_before = math.sqrt(29 / 30) / (11 / 6)  # .536291
    cv_after = math.sqrt(2.5) / 3  # .527046
    assert row["cv_change"] == pytest.approx(cv_after - cv_before)
    # Shares r1: 1 3/6, 2 1/6, 3 2/6; r2: 1/5 each of 1..5.
    # |.2-.5| + |.2-1/6| + |.2-1/3| + .2 + .2 = 9/30 + 1/30 + 4/30 + 12/30 = 26/30; half = 13/30.
    assert row["distribution_change"] == pytest.approx(13 / 30 * 100)
    assert bool(row["stable"]) is False


def test_an_unchanged_item_is_stable_and_untestable():
    row = _row(stability(_two_rounds([(4, 4), (4, 4), (5, 5)]), from_round=1, to_round=2))
    assert row["n_pairs"] == 3
    assert np.isnan(row["wilcoxon_statistic"])
    assert np.isnan(row["wilcoxon_p"])
    assert row["pct_changed"] == 0
    assert row["cv_change"] == pytest.approx(0.0)
    assert row["distribution_change"] == pytest.approx(0.0)
    assert bool(row["stable"]) is True


def test_wilcoxon_with_tied_differences():
    answers = _two_rounds([(1, 2), (2, 3), (4, 2), (1, 4)])
    row = _row(stability(answers, from_round=1, to_round=2))
    # d = +1, +1, -2, +3: ranks 1.5, 1.5, 3, 4; W+ = 7, W- = 3; statistic 3.
    # Of the 16 sign patterns, W- <= 3 for {}, {1.5}, {1.5'}, {1.5, 1.5'}, {3}: p = 2*5/16.
    assert row["wilcoxon_statistic"] == pytest.approx(3.0)
    assert row["wilcoxon_p"] == pytest.approx(0.625)


def test_no_opinion_in_either_round_breaks_the_pair():
    answers = _two_rounds([(1, 2), (3, np.nan), (np.nan, 4), (2, 2)])
    row = _row(stability(answers, from_round=1, to_round=2))
    assert row["n_pairs"] == 2  # e0 and e3
    assert row["pct_changed"] == pytest.approx(50.0)


def test_an_item_answered_in_one_round_only_has_no_change_figures():
    answers = pd.concat([_two_rounds(MOVING), _two_rounds([(None, 3), (None, 4)], item="new")])
    row = _row(stability(answers, from_round=1, to_round=2), "new")
    assert row["n_pairs"] == 0
    assert np.isnan(row["wilcoxon_p"])
    assert np.isnan(row["pct_changed"])
    assert np.isnan(row["cv_change"])
    assert np.isnan(row["distribution_change"])
    assert bool(row["stable"]) is False


@pytest.mark.parametrize(("movers", "change", "stable"), [(1, 10.0, True), (2, 20.0, False)])
def test_scheibe_fifteen_percent_rule(movers, change, stable):
    # Ten experts split 5/5 between 4 and 5; each mover goes 4 -> 5, shifting .1 of the
    # shares out of 4 and .1 into 5: (|-.1 k| + |.1 k|)/2 = 10% per mover.
    pairs = [(4, 5)] * movers + [(4, 4)] * (5 - movers) + [(5, 5)] * 5
    row = _row(stability(_two_rounds(pairs), from_round=1, to_round=2))
    assert row["distribution_change"] == pytest.approx(change)
    assert bool(row["stable"]) is stable


def test_comparing_a_round_with_itself_is_rejected():
    with pytest.raises(ValueError, match="must differ"):
        stability(_two_rounds(MOVING), from_round=1, to_round=1)


def test_sorted_platform_frames_pair_answers_as_shuffled_ones_do():
    # The platform's frames come sorted by item and expert with categorical keys, and pairs
    # are then found by binary search; a shuffled copy takes numpy's intersect1d.
    frame = pd.concat([_two_rounds(MOVING), _two_rounds([(5, 4), (4, 4), (2, 1)], item="q2")])
    frame = frame.sort_values(["round", "item", "expert"]).astype(
        {"item": "category", "expert": "category"}).reset_index(drop=True)
    shuffled = frame.sample(frac=1.0, random_state=3)

    ordered = stability(frame, from_round=1, to_round=2)
    mixed = stability(shuffled, from_round=1, to_round=2)

    pd.testing.assert_frame_equal(ordered, mixed)
    row = _row(ordered)
    assert (row["n_pairs"], row["wilcoxon_statistic"], row["pct_changed"]) == (5, 2.0, 80.0)
    assert _row(ordered, "q2")["n_pairs"] == 3  # differences -1, 0, -1


def test_pairs_found_by_a_table_match_intersect1d():
    from analysis.stability import _common

    rng = np.random.default_rng(7)
    a = np.unique(rng.integers(0, 5000, 3000))
    b = np.unique(rng.integers(0, 5000, 2500))
    _, want_a, want_b = np.intersect1d(a, b, assume_unique=True, return_indices=True)

    assert len(want_a) > 0
    for size in (5000, 10**12):  # a table of positions; intersect1d when the range is vast
        got_a, got_b = _common(a, b, size)
        np.testing.assert_array_equal(got_a, want_a)
        np.testing.assert_array_equal(got_b, want_b)
    # Rows in any order: the same pairs (in another order, which no statistic depends on).
    shuffled_a, shuffled_b = rng.permutation(a), rng.permutation(b)
    got_a, got_b = _common(shuffled_a, shuffled_b, 5000)
    assert sorted(zip(shuffled_a[got_a], shuffled_b[got_b], strict=True)) == [
        (value, value) for value in np.intersect1d(a, b)]

"""Convergence, consensus definitions, polarization, attrition and trajectories, by hand."""

import math

import pandas as pd
import pytest

from analysis.reporting import (
    attrition,
    consensus_definitions,
    convergence,
    polarization,
    trajectories,
    verdict_changes,
)

GROUPS = {"A": "RU", "B": "RU", "C": "CEE", "D": "CEE", "E": "CEE"}


def panel() -> pd.DataFrame:
    # Round 1: A-E answer 1 2 4 4 5; round 2: A-D answer 3 3 4 4 and E has left.
    rows = [(e, 1, v) for e, v in zip("ABCDE", [1, 2, 4, 4, 5], strict=True)]
    rows += [(e, 2, v) for e, v in zip("ABCD", [3, 3, 4, 4], strict=True)]
    return pd.DataFrame([{"expert": e, "round": r, "item": "a", "value": v, "group": GROUPS[e]}
                         for e, r, v in rows])


def test_convergence_follows_iqr_and_agreement_round_by_round():
    table = convergence(panel()).set_index("round")
    # Round 2, sorted 3 3 4 4: q1 at 0.75 -> 3, q3 at 2.25 -> 4; two of four agree.
    assert (table.loc[1, "iqr"], table.loc[1, "pct_agree"]) == (2, 60)
    assert (table.loc[2, "iqr"], table.loc[2, "pct_agree"]) == (1, 50)
    assert table.loc[2, "sd"] == pytest.approx(math.sqrt(1 / 3))


def test_consensus_under_several_definitions_and_the_items_that_flip():
    table = consensus_definitions(convergence(panel())).set_index("round")
    # Round 1: only APMO says yes (its cut-off: 3 majority opinions of 5 = 60 %, and 60 >= 60).
    assert table.loc[1, "apmo_cutoff"] == pytest.approx(60)
    assert [bool(table.loc[1, d]) for d in ("rule", "agreement", "iqr", "sd", "tastle_wierman",
                                            "apmo")] == [False, False, False, False, False, True]
    # Round 2: IQR 1, SD sqrt(1/3), Tastle-Wierman 1 + log2(1 - .5/4) = .807; 50 % agree.
    assert [bool(table.loc[2, d]) for d in ("rule", "agreement", "iqr", "sd", "tastle_wierman",
                                            "apmo")] == [False, False, True, True, True, True]
    assert not table.loc[1, "unanimous"] and not table.loc[2, "unanimous"]
    flips = verdict_changes(consensus_definitions(convergence(panel())), definition="iqr")
    assert flips.to_dict("records") == [
        {"item": "a", "dimension": "", "from_round": 1, "to_round": 2, "now": True}]


def test_polarization_measures_the_gap_between_two_groups():
    table = polarization(panel(), group_a="RU", group_b="CEE").set_index("round")
    assert (table.loc[1, "mean_a"], table.loc[1, "gap"]) == (1.5, pytest.approx(13 / 3 - 1.5))
    assert (table.loc[2, "mean_a"], table.loc[2, "mean_b"], table.loc[2, "gap"]) == (3, 4, 1)
    # Round 1: both RU answers lie below all three CEE answers (U = 0).
    assert table.loc[1, "p"] < 0.2


def test_attrition_compares_the_first_answers_of_those_who_left():
    row = attrition(panel()).iloc[0]
    assert (row["n_stayed"], row["n_left"]) == (4, 1)
    assert (row["mean_stayed"], row["mean_left"], row["difference"]) == (2.75, 5, 2.25)


def test_trajectories_say_who_moved_toward_the_median_they_saw():
    table = trajectories(panel()).set_index("expert")
    # Round 1's median was 4: A went 1 -> 3 and B 2 -> 3 (closer); C and D stayed at 4.
    assert list(table.index) == ["A", "B", "C", "D"]
    assert list(table["panel_median"]) == [4, 4, 4, 4]
    assert list(table["toward_median"]) == [True, True, False, False]
    assert list(table["changed"]) == [True, True, False, False]

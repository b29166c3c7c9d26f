"""Consensus definitions side by side, APMO and rule combinations, on hand-made summaries."""

import pandas as pd
import pytest

from analysis.consensus import DEFINITIONS, consensus_table, rule_met, study_rule


def summary() -> pd.DataFrame:
    # Three items of one panel, ten answers each.
    # A: 8 agree, 1 disagree; B: 4 agree, 6 disagree; C: 3 agree, 2 disagree, 5 neutral.
    return pd.DataFrame({
        "item": ["A", "B", "C"], "n": [10, 10, 10],
        "pct_agree": [80.0, 40.0, 30.0], "pct_disagree": [10.0, 60.0, 20.0],
        "iqr": [1.0, 2.5, 0.5], "sd": [0.9, 1.6, 0.7], "tastle_wierman": [0.82, 0.41, 0.79],
    })


def test_every_definition_side_by_side():
    table = consensus_table(summary(), rule=study_rule(agree_pct=75, iqr_max=1))

    assert table["study"].tolist() == [True, False, False]  # only A: 80 >= 75 and IQR 1 <= 1
    assert table["agree_70"].tolist() == [True, False, False]
    assert table["agree_80"].tolist() == [True, False, False]
    assert table["iqr_1"].tolist() == [True, False, True]
    assert table["tastle_wierman_0.8"].tolist() == [True, False, False]
    assert set(DEFINITIONS) <= set(table.columns)


def test_apmo_cutoff_and_verdicts_are_worked_by_hand():
    table = consensus_table(summary())

    # Opinions (agree + disagree): 9 + 10 + 5 = 24. Majority opinions (> 50 % of an item):
    # A's 8 agreeing, B's 6 disagreeing, none of C's: 14. Cut-off 14 / 24 = 58.33 %.
    assert table["apmo_cutoff"].iloc[0] == pytest.approx(100 * 14 / 24)
    assert table["apmo"].tolist() == [True, False, False]  # agreement 80 / 40 / 30 vs 58.33


def test_apmo_is_computed_per_panel_when_groups_are_present():
    both = pd.concat([summary().assign(group=""),
                      summary().assign(group="RU", pct_agree=[90.0, 95.0, 10.0],
                                       pct_disagree=[0.0, 0.0, 80.0])])

    table = consensus_table(both.reset_index(drop=True))

    # RU: opinions 9 + 9.5 + (1 + 8) = 27.5; majorities 9 + 9.5 + 8 (C's 8 disagreeing) = 26.5:
    # cut-off 96.36 %, which none of RU's agreement figures (90, 95, 10) reaches.
    assert table["apmo_cutoff"].tolist()[3:] == [pytest.approx(100 * 26.5 / 27.5)] * 3
    assert table["apmo"].tolist() == [True, False, False, False, False, False]


def test_combinations_and_missing_statistics():
    rows = summary()
    either = {"kind": "any", "rules": [{"kind": "agree_pct", "min": 75}, {"kind": "sd", "max": 0.75}]}

    assert rule_met(rows, either).tolist() == [True, False, True]
    # RAND/UCLA needs its disagreement index; a 5-point summary has none: NA, not False.
    assert rule_met(rows, {"kind": "rand_ucla"}).isna().all()
    both = {"kind": "all", "rules": [{"kind": "rand_ucla"}, {"kind": "iqr", "max": 1}]}
    assert rule_met(rows, both).tolist()[1] is False  # NA and False is False
    assert rule_met(rows, both).isna().tolist() == [True, False, True]


def test_rand_ucla_rule_reads_the_disagreement_index():
    rows = pd.DataFrame({"n": [10, 10], "di": [0.54, 3.40]})

    assert rule_met(rows, {"kind": "rand_ucla"}).tolist() == [True, False]


def test_no_answers_means_no_consensus():
    rows = pd.DataFrame({"n": [0], "pct_agree": [float("nan")], "iqr": [float("nan")]})

    assert rule_met(rows, study_rule(agree_pct=75, iqr_max=1)).tolist() == [False]


def test_a_rule_object_with_as_dict_is_accepted_and_bad_rules_refused():
    class Registered:
        def as_dict(self):
            return {"kind": "iqr", "max": 0.5}

    assert rule_met(summary(), Registered()).tolist() == [False, False, True]
    with pytest.raises(ValueError, match="unknown consensus rule kind"):
        rule_met(summary(), {"kind": "vibes"})
    with pytest.raises(ValueError, match="needs 'min'"):
        rule_met(summary(), {"kind": "agree_pct"})
    with pytest.raises(TypeError):
        rule_met(summary(), 75)

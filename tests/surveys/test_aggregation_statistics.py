"""The snapshot statistics of one round, from a long frame, against figures worked by hand.

These call the Django-free engine (surveys.services.aggregation.statistics) directly; the
database-backed runs are tested in test_aggregation_runs.py.
"""

import math

import numpy as np
import pandas as pd
import pytest

from analysis.consensus import study_rule
from surveys.services.aggregation.statistics import (
    ItemSpec,
    finish,
    item_statistics,
    records,
)

AGREE = ItemSpec("agreement", 1, 5)
RULE = study_rule(agree_pct=75, iqr_max=1)


def long(item, values, *, groups=None, round_=1, weights=None, dimension="", experts=None):
    n = len(values)
    return pd.DataFrame({
        "expert": experts or [f"E{k}" for k in range(n)], "round": round_, "item": item,
        "dimension": dimension, "group": groups or [""] * n,
        "value": [np.nan if v is None else float(v) for v in values],
        "weight": weights or [np.nan] * n,
    })


def rows_by_key(rows: pd.DataFrame) -> dict:
    return {(r["item"], r["dimension"], r["group"]): r for r in records(rows)}


def test_a_rated_item_has_every_statistic_with_no_opinion_left_out():
    frame = long("a", [1, 2, 4, 4, 5, None], groups=["RU", "RU", "US", "US", "WE", "WE"],
                 weights=[1, 1, 1, 5, 1, 1])

    rows, _ = finish(item_statistics(frame, items={"a": AGREE}), rule=RULE)
    got = rows_by_key(rows)
    a = got[("a", "", "")]

    # Sorted 1 2 4 4 5 (R type 7): q1 at position 1 -> 2, q3 at 3 -> 4; mean 3.2;
    # SD sqrt(10.8 / 4); CV = SD / mean; 3 of 5 agree (4-5) and 2 of 5 disagree (1-2).
    assert (a["n"], a["no_opinion"], a["median"], a["q1"], a["q3"], a["iqr"]) == (5, 1, 4, 2, 4, 2)
    assert a["sd"] == pytest.approx(math.sqrt(2.7))
    assert a["cv"] == pytest.approx(math.sqrt(2.7) / 3.2)
    assert (a["pct_agree"], a["pct_disagree"]) == (pytest.approx(60), pytest.approx(40))
    assert a["distribution"] == {"1": 1, "2": 1, "3": 0, "4": 2, "5": 1}
    # Tastle-Wierman, d = 4: 1 + mean(log2(1 - |x - 3.2| / 4)) over 1 2 4 4 5
    # = 1 + (log2 .45 + log2 .7 + 2 log2 .8 + log2 .55) / 5.
    tw = 1 + (math.log2(0.45) + math.log2(0.7) + 2 * math.log2(0.8) + math.log2(0.55)) / 5
    assert a["tastle_wierman"] == pytest.approx(tw)
    # Weighted (the no-opinion's weight does not count): 1 2 4 4(5) 5, total 9, half 4.5,
    # cumulative 1 2 3 8 reaches it at the heavy 4. Agreeing weight 1 + 5 + 1 = 7 of 9.
    assert (a["w_median"], a["w_n"]) == (4, 5)
    assert a["w_pct_agree"] == pytest.approx(700 / 9)
    # 60 % < 75 % and IQR 2 > 1: no consensus under the study rule, nor under these.
    assert a["verdict"] == "none"
    assert a["consensus_rules"]["agree_70"] is False and a["consensus_rules"]["iqr_1"] is False
    ru, we = got[("a", "", "RU")], got[("a", "", "WE")]
    assert (ru["n"], ru["median"], ru["mean"]) == (2, 1.5, 1.5)
    assert (we["n"], we["no_opinion"], we["median"]) == (1, 1, 5)  # a single answer
    assert we["sd"] is None  # undefined with n = 1, stored as null


def test_groups_on_opposite_sides_are_flagged_polarized():
    frame = long("p", [1] * 5 + [5] * 5, groups=["RU"] * 5 + ["US"] * 5)

    p = rows_by_key(item_statistics(frame, items={"p": AGREE}))[("p", "", "")]

    # Mann-Whitney, n1 = n2 = 5, fully separated: U(RU) = 0. Ties (two runs of 5) give
    # sigma^2 = 25/12 (11 - 240/90) = 17.361; z = (0 - 12.5 + 0.5) / 4.1667 = -2.88; p = .00398.
    assert (p["groups_test"], p["groups_statistic"], p["groups_n"]) == ("mann-whitney", 0, 2)
    assert p["groups_p"] == pytest.approx(0.003976, abs=2e-5)
    assert p["groups_differ"] is True and p["polarized"] is True


def test_groups_that_differ_on_one_side_are_not_polarized():
    frame = long("q", [4] * 5 + [5] * 5, groups=["RU"] * 5 + ["US"] * 5)

    q = rows_by_key(item_statistics(frame, items={"q": AGREE}))[("q", "", "")]

    assert q["groups_differ"] is True and q["polarized"] is False  # medians 4 and 5, both above 3


def test_stability_against_the_previous_round():
    before = long("a", [1, 2, 4, 4, 5], round_=1)
    after = long("a", [2, 2, 4, 5, 5], round_=2)

    a = rows_by_key(item_statistics(after, items={"a": AGREE}, previous=before))[("a", "", "")]

    # Differences 1 0 0 1 0: two experts of five changed; Wilcoxon on the two non-zero
    # differences (ranks 1.5 and 1.5, all positive): W- = 0.
    assert (a["stability_pairs"], a["pct_changed"], a["wilcoxon_statistic"]) == (5, 40, 0)
    # Shares before 1:.2 2:.2 4:.4 5:.2, after 2:.4 4:.2 5:.4: half the absolute change = 40 %.
    assert a["distribution_change"] == pytest.approx(40.0)
    # The verdict is the study's rule's, added with the consensus verdicts: 40 % >= 15 % moves;
    # the Wilcoxon p of two equal differences (0.5) is above 0.05: stable under that rule.
    rows = item_statistics(after, items={"a": AGREE}, previous=before)
    scheibe = rows_by_key(finish(rows, rule=RULE, stability_rule={
        "kind": "distribution", "change_below_pct": 15})[0])[("a", "", "")]
    wilcoxon = rows_by_key(finish(rows, rule=RULE, stability_rule={
        "kind": "wilcoxon", "p_above": 0.05})[0])[("a", "", "")]
    assert (scheibe["stable"], wilcoxon["stable"]) == (False, True)
    # CV before sqrt(2.7)/3.2 = 0.51350, after sqrt(9.2/4)/3.6 = 0.42127.
    assert a["cv_change"] == pytest.approx(math.sqrt(2.3) / 3.6 - math.sqrt(2.7) / 3.2)


def test_a_nine_point_item_gets_rand_ucla_and_its_own_top_boxes():
    frame = long("r", [1, 1, 1, 1, 1, 9, 9, 9, 9, 9])

    rows, _ = finish(item_statistics(frame, items={"r": ItemSpec("agreement", 1, 9)}), rule=RULE)
    r = rows_by_key(rows)[("r", "", "")]

    # P30 at position 9 * .3 = 2.7 -> 1; P70 at 6.3 -> 9: IPR 8, IPRCP 5, AI 0, IPRAS 2.35,
    # DI = 8 / 2.35 > 1: disagreement. Top boxes of 9 are 7-9: half agree.
    assert (r["p30"], r["p70"], r["ipr"], r["iprcp"], r["ai"]) == (1, 9, 8, 5, 0)
    assert r["ipras"] == pytest.approx(2.35) and r["di"] == pytest.approx(8 / 2.35)
    assert r["disagreement"] is True and r["pct_agree"] == 50
    assert r["consensus_rules"]["tastle_wierman_0.8"] is False
    assert r["tastle_wierman"] == pytest.approx(0.0)  # split between the two extremes


def test_estimates_get_deciles_and_rankings_mean_ranks_and_kendalls_w_per_group():
    prob = long("prob", [90, 10, 40, 20])
    ranks = pd.concat([
        long("rank", [1, 2, 3], dimension=["a", "b", "c"], experts=["R1"] * 3, groups=["RU"] * 3),
        long("rank", [1, 2, 3], dimension=["a", "b", "c"], experts=["R2"] * 3, groups=["RU"] * 3),
        long("rank", [1, 2, 3], dimension=["a", "b", "c"], experts=["U1"] * 3, groups=["US"] * 3),
        long("rank", [3, 2, 1], dimension=["a", "b", "c"], experts=["U2"] * 3, groups=["US"] * 3),
    ])
    items = {"prob": ItemSpec("probability", 0, 100), "rank": ItemSpec("ranking", 1, 3)}

    got = rows_by_key(item_statistics(pd.concat([prob, ranks], ignore_index=True), items=items))

    p = got[("prob", "", "")]
    # Sorted 10 20 40 90: p10 at position .3 -> 13; p90 at 2.7 -> 40 + .7 * 50 = 75.
    assert (p["q1"], p["median"], p["q3"], p["p10"], p["p90"]) == (17.5, 30, 52.5, 13, 75)
    a = got[("rank", "a", "")]
    # Rank sums a 6, b 8, c 10 (mean 8): S = 8; W = 12 * 8 / (4^2 (27 - 3)) = 0.25;
    # chi2 = m (n - 1) W = 2 on 2 df, p = exp(-1).
    assert (a["mean_rank"], got[("rank", "c", "")]["mean_rank"]) == (1.5, 2.5)
    assert a["kendall_w"] == pytest.approx(0.25) and a["chi2"] == pytest.approx(2.0)
    assert a["p"] == pytest.approx(math.exp(-1)) and (a["df"], a["n_experts"]) == (2, 4)
    assert got[("rank", "a", "RU")]["kendall_w"] == pytest.approx(1.0)  # identical rankings
    assert got[("rank", "a", "US")]["kendall_w"] == pytest.approx(0.0)  # opposite rankings


def test_panel_agreement_over_agreement_items_matches_krippendorffs_published_example():
    coders = {
        "A": [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
        "B": [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
        "C": [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
        "D": [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
    }
    frame = pd.concat([long(f"u{unit:02d}", [values[unit - 1] for values in coders.values()],
                            experts=list(coders)) for unit in range(1, 13)], ignore_index=True)
    items = {f"u{unit:02d}": AGREE for unit in range(1, 13)}

    _, panel = finish(item_statistics(frame, items=items), rule=RULE)

    # From the per-item distributions alone (alpha depends on the data only through them).
    assert panel["krippendorff_alpha"] == pytest.approx(0.815, abs=5e-4)  # Krippendorff 2011
    assert (panel["agreement_items"], panel["agreement_answers"]) == (12, 41)


def test_apmo_consensus_uses_the_rounds_own_cutoff():
    # x: 8 of 10 agree; y: 4 agree, 6 disagree. Opinions 8 + 10 = 18, majorities 8 + 6 = 14:
    # cut-off 77.8 %. x (80 %) reaches it; y (40 %) does not.
    frame = pd.concat([long("x", [5] * 8 + [3] * 2), long("y", [4] * 4 + [1] * 6)],
                      ignore_index=True)

    rows, panel = finish(item_statistics(frame, items={"x": AGREE, "y": AGREE}), rule=RULE)
    got = rows_by_key(rows)

    assert panel["apmo_cutoff"][""] == pytest.approx(100 * 14 / 18)
    assert got[("x", "", "")]["consensus_rules"]["apmo"] is True
    assert got[("y", "", "")]["consensus_rules"]["apmo"] is False
    # x sorted 3 3 5 5 5 5 5 5 5 5: q1 at position 2.25 -> 5, q3 5, IQR 0; 80 % >= 75 %.
    assert got[("x", "", "")]["verdict"] == "agree"

"""Holm and Benjamini-Hochberg adjusted p-values, against a hand-worked example and against
statsmodels' multipletests on the same families (ties, NaN, p = 0 and 1, one test)."""

import numpy as np
import pytest
from statsmodels.stats.multitest import multipletests

from analysis.multiplicity import adjust, benjamini_hochberg, holm, significant

FAMILIES = [
    [0.01, 0.04, 0.03, 0.20],
    [0.001, 0.008, 0.039, 0.041, 0.042, 0.06, 0.074, 0.205, 0.212, 0.216],
    [0.02, 0.02, 0.02, 0.5, 0.5, 0.01],  # ties
    [0.3, np.nan, 0.01, 0.04, np.nan, 0.04],  # NaN kept NaN, out of the family
    [0.0, 1.0, 0.5, 0.9999],
    [0.03],
    list(np.random.default_rng(18).uniform(0, 0.2, 58)),  # a round's 58 group tests
]


def test_the_hand_worked_example():
    # p = .01 .04 .03 .20 (m = 4), sorted .01 .03 .04 .20.
    # Holm: 4 x .01 = .04; 3 x .03 = .09; 2 x .04 = .08, running max .09; 1 x .20 = .20.
    assert holm([0.01, 0.04, 0.03, 0.20]) == pytest.approx([0.04, 0.09, 0.09, 0.20])
    # BH from the largest: .20 x 4/4 = .20; .04 x 4/3 = .0533; .03 x 4/2 = .06, running
    # min .0533; .01 x 4/1 = .04.
    assert benjamini_hochberg([0.01, 0.04, 0.03, 0.20]) == pytest.approx(
        [0.04, 0.04 * 4 / 3, 0.04 * 4 / 3, 0.20])
    # Below .05: raw three (.01 .04 .03); Holm one (.04); BH one (.04; .0533 is not).
    assert significant([0.01, 0.04, 0.03, 0.20]) == 3
    assert significant(holm([0.01, 0.04, 0.03, 0.20])) == 1
    assert significant(benjamini_hochberg([0.01, 0.04, 0.03, 0.20])) == 1


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize(("ours", "theirs"), [(holm, "holm"), (benjamini_hochberg, "fdr_bh")])
def test_the_same_as_statsmodels(family, ours, theirs):
    p = np.asarray(family, dtype=float)
    kept = ~np.isnan(p)
    expected = np.full(len(p), np.nan)
    expected[kept] = multipletests(p[kept], method=theirs)[1]
    got = ours(family)
    assert np.isnan(got).tolist() == (~kept).tolist()
    assert got[kept] == pytest.approx(expected[kept], abs=1e-12)


def test_adjusted_p_values_never_fall_below_the_raw_ones_and_keep_their_order():
    p = np.asarray(FAMILIES[1])
    for adjusted in (holm(p), benjamini_hochberg(p)):
        assert (adjusted >= p).all() and (adjusted <= 1).all()
        assert (np.diff(adjusted[np.argsort(p)]) >= 0).all()


def test_an_empty_or_all_nan_family_and_bad_input():
    assert holm([]).tolist() == []
    assert np.isnan(benjamini_hochberg([np.nan, np.nan])).all()
    assert adjust([0.01, 0.02], "holm") == pytest.approx([0.02, 0.02])
    with pytest.raises(ValueError, match="between 0 and 1"):
        holm([0.5, 1.5])
    with pytest.raises(ValueError, match="holm, bh"):
        adjust([0.5], "bonferroni")

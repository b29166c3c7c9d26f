"""The batched rank tests give scipy's statistics and p-values bit for bit, item by item."""

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis import group_differences, stability


def _same(a: float, b: float) -> bool:
    return (np.isnan(a) and np.isnan(b)) or a == b


def _panel(rng, items: int, groups: list[str], sizes, scale) -> pd.DataFrame:
    rows = []
    for k in range(items):
        for g, group in enumerate(groups):
            n = int(rng.choice(sizes))
            values = scale(rng, n) + g * rng.integers(0, 2)
            rows += [{"expert": f"i{k}-{group}-{j}", "round": 1, "item": f"i{k:02d}",
                      "group": group, "value": float(v)} for j, v in enumerate(values)]
    return pd.DataFrame(rows)


def _scipy_groups(answers: pd.DataFrame) -> dict:
    out = {}
    for item, part in answers.groupby("item"):
        samples = [g["value"].to_numpy() for _, g in part.groupby("group", sort=True)]
        if len(samples) < 2:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            result = (stats.mannwhitneyu(*samples, alternative="two-sided") if len(samples) == 2
                      else stats.kruskal(*samples))
        out[item] = (float(result.statistic), float(result.pvalue))
    return out


LIKERT = lambda rng, n: rng.integers(1, 6, n)  # noqa: E731 (ties everywhere)
CONTINUOUS = lambda rng, n: rng.normal(50, 20, n)  # noqa: E731 (no ties)


@pytest.mark.parametrize(("groups", "sizes", "scale"), [
    (["a", "b"], [1, 3, 8, 9, 40, 700], LIKERT),
    (["a", "b"], [1, 3, 8, 9, 40], CONTINUOUS),
    (["a", "b", "c", "d", "e"], [1, 2, 9, 60, 900], LIKERT),
    (["a", "b", "c"], [1, 2, 9, 60], CONTINUOUS),
])
def test_group_tests_equal_scipy_to_the_last_bit(groups, sizes, scale):
    answers = _panel(np.random.default_rng(7), 40, groups, sizes, scale)

    result = group_differences(answers, round_=1)

    expected = _scipy_groups(answers)
    assert sorted(result["item"]) == sorted(expected)
    for row in result.itertuples():
        assert _same(row.statistic, expected[row.item][0]), row
        assert _same(row.p, expected[row.item][1]), row


def test_groups_answering_all_alike_give_scipy_s_nan():
    answers = pd.DataFrame({"expert": [f"e{k}" for k in range(6)], "round": 1, "item": "q",
                            "group": ["a", "a", "b", "b", "c", "c"], "value": 3.0})
    row = group_differences(answers, round_=1).iloc[0]
    assert np.isnan(row["statistic"]) and np.isnan(row["p"])


@pytest.mark.parametrize("experts", [10, 50, 51, 400, 3000])
def test_wilcoxon_equals_scipy_to_the_last_bit(experts):
    rng = np.random.default_rng(experts)
    before = rng.integers(1, 10, (12, experts)).astype(float)
    after = np.clip(before + rng.integers(-2, 3, before.shape) * (rng.random(before.shape) < .6),
                    1, 9)
    after[0] = before[0]  # nothing changed: no test
    rows = [{"expert": f"e{j}", "round": r, "item": f"i{k:02d}", "value": v[k, j]}
            for r, v in ((1, before), (2, after)) for k in range(12) for j in range(experts)]

    result = stability(pd.DataFrame(rows), from_round=1, to_round=2, scale_min=1, scale_max=9)

    for k, row in enumerate(result.itertuples()):
        differences = after[k] - before[k]
        if not differences.any():
            assert np.isnan(row.wilcoxon_statistic) and np.isnan(row.wilcoxon_p)
            continue
        expected = stats.wilcoxon(differences, zero_method="wilcox", alternative="two-sided")
        assert _same(row.wilcoxon_statistic, float(expected.statistic)), row
        assert _same(row.wilcoxon_p, float(expected.pvalue)), row

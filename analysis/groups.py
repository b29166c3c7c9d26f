"""Differences between stakeholder groups on each item of one round.

Experts whose ``group`` is "" belong to no stakeholder group and are left out of the
comparison. A group takes part in an item's test when it has at least one valid answer.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from analysis import ranktests
from analysis.frames import group_numbers, validate_long

KEYS: list[str] = ["item", "dimension"]
GROUP_COLUMNS: tuple[str, ...] = ("test", "statistic", "p", "n_groups", "n")


def group_differences(frame: pd.DataFrame, *, round_: int) -> pd.DataFrame:
    """Return one row per (item, dimension) with at least two groups, testing their difference.

    Two groups: scipy's two-sided Mann-Whitney U, whose statistic is U of the group whose
    name sorts first. Three or more: Kruskal-Wallis H (tie-corrected). `n` counts the valid
    answers compared.
    """
    df = validate_long(frame)
    df = df.loc[df["round"].eq(round_) & df["value"].notna() & df["group"].ne("")]
    by_key = df.groupby(KEYS, sort=True)
    keys = list(by_key.size().index)
    key_ids = group_numbers(df, KEYS, by_key).astype(np.int64)
    group_codes, groups = pd.factorize(df["group"], sort=True)
    values = df["value"].to_numpy(dtype="float64")
    # Every item's answers ranked at once; rank sums and sizes per item and group.
    width = max(len(groups), 1)
    ranks, ties, longest = ranktests.average_ranks(key_ids, values, len(keys))
    cell = key_ids * width + group_codes
    sizes = np.bincount(cell, minlength=len(keys) * width).reshape(len(keys), width)
    sums = np.bincount(cell, weights=ranks, minlength=len(keys) * width).reshape(len(keys), width)
    samples = _Samples(cell, values, width)
    rows = []
    for k, key in enumerate(keys):
        present = np.flatnonzero(sizes[k])  # the groups with answers, in sorted order
        rows.append((*key, *_test(k, present, sizes[k], sums[k], ties[k], longest[k], samples)))
    out = pd.DataFrame(rows, columns=[*KEYS, *GROUP_COLUMNS])
    out = out.loc[out["n_groups"].ge(2)].reset_index(drop=True)
    return out.astype({"statistic": "float64", "p": "float64", "n_groups": "int64", "n": "int64"})


class _Samples:
    """Each item's samples by group, for the few tests scipy computes itself (sorted once,
    on first use)."""

    def __init__(self, cell: np.ndarray, values: np.ndarray, width: int) -> None:
        self.cell, self.values, self.width, self.order = cell, values, width, None

    def __call__(self, k: int, present: np.ndarray) -> list[np.ndarray]:
        if self.order is None:
            # Stable, so each sample keeps the frame's order.
            self.order = np.argsort(self.cell, kind="stable")
            self.sorted_cell = self.cell[self.order]
        bounds = np.searchsorted(self.sorted_cell, [k * self.width + present,
                                                    k * self.width + present + 1])
        return [self.values[self.order[a:b]] for a, b in zip(*bounds, strict=True)]


def _test(k: int, present: np.ndarray, sizes: np.ndarray, sums: np.ndarray, ties: float,
          longest: int, samples: _Samples) -> tuple[str, float, float, int, int]:
    n = int(sizes.sum())
    if len(present) < 2:
        return ("", np.nan, np.nan, len(present), n)
    if len(present) == 2:
        n1, n2 = (int(sizes[g]) for g in present)
        if ranktests.asymptotic_mannwhitneyu(n1, n2, int(longest)):
            return ("mann-whitney", *ranktests.mannwhitneyu(sums[present[0]], n1, n2, ties), 2, n)
    elif ties < n**3 - n:  # not every answer the same (scipy then divides by zero)
        statistic, p = ranktests.kruskal([sums[g] for g in present],
                                         [int(sizes[g]) for g in present], ties)
        return ("kruskal-wallis", statistic, p, len(present), n)
    return _scipy_test(samples(k, present), n)


def _scipy_test(samples: list[np.ndarray], n: int) -> tuple[str, float, float, int, int]:
    from scipy import stats  # here: importing scipy.stats costs a second the CLI need not pay

    with warnings.catch_warnings():
        # Identical answers in every group make H 0/0; scipy warns and returns NaN.
        warnings.simplefilter("ignore", RuntimeWarning)
        if len(samples) == 2:
            result = stats.mannwhitneyu(samples[0], samples[1], alternative="two-sided")
            name = "mann-whitney"
        else:
            result = stats.kruskal(*samples)
            name = "kruskal-wallis"
    return (name, float(result.statistic), float(result.pvalue), len(samples), n)

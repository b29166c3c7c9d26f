"""Differences between stakeholder groups on each item of one round.

Experts whose ``group`` is "" belong to no stakeholder group and are left out of the
comparison. A group takes part in an item's test when it has at least one valid answer.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from analysis import ranktests
from analysis.frames import group_index, validate_long

KEYS: list[str] = ["item", "dimension"]
GROUP_COLUMNS: tuple[str, ...] = ("test", "statistic", "p", "n_groups", "n")


def group_differences(frame: pd.DataFrame, *, round_: int, sizes: bool = False) -> pd.DataFrame:
    """Return one row per (item, dimension) with at least two groups, testing their difference.

    Two groups: scipy's two-sided Mann-Whitney U, whose statistic is U of the group whose
    name sorts first. Three or more: Kruskal-Wallis H (tie-corrected). `n` counts the valid
    answers compared. With `sizes`, a column `n_by_group`: {group: valid answers}, the groups
    in sorted order.
    """
    df = validate_long(frame)
    # Every row's key and group as numbers, then the round's valid answers of some group,
    # without copying the frame.
    index, all_keys = group_index(df, KEYS)
    all_groups, groups = _group_codes(df["group"])
    all_values = df["value"].to_numpy(dtype="float64")
    use = ((df["round"].to_numpy() == round_) & ~np.isnan(all_values)
           & df["group"].ne("").to_numpy())
    key_ids = all_keys[use].astype(np.int64)
    group_codes, values = all_groups[use], all_values[use]
    # Every item's answers ranked at once; rank sums and sizes per item and group.
    width, keys = max(len(groups), 1), list(index)
    ranks, ties, longest = ranktests.average_ranks(key_ids, values, len(keys))
    cell = key_ids * width + group_codes
    counts = np.bincount(cell, minlength=len(keys) * width).reshape(len(keys), width)
    sums = np.bincount(cell, weights=ranks, minlength=len(keys) * width).reshape(len(keys), width)
    samples = _Samples(cell, values, width)
    rows = []
    for k, key in enumerate(keys):
        present = np.flatnonzero(counts[k])  # the groups with answers, in sorted order
        if len(present) < 2:
            continue
        row = (*key, *_test(k, present, counts[k], sums[k], ties[k], longest[k], samples))
        if sizes:
            row = (*row, {str(groups[g]): int(counts[k, g]) for g in present})
        rows.append(row)
    columns = [*KEYS, *GROUP_COLUMNS, *(["n_by_group"] if sizes else [])]
    out = pd.DataFrame(rows, columns=columns)
    return out.astype({"statistic": "float64", "p": "float64", "n_groups": "int64", "n": "int64"})


def _group_codes(column: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """(each row's group number, the groups in sorted order): a categorical's own codes
    (validate_long sorts its categories), else pd.factorize."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        return column.cat.codes.to_numpy(), column.cat.categories
    codes, uniques = pd.factorize(column, sort=True)
    return codes, pd.Index(uniques)


class _Samples:
    """Each item's samples by group, for the few tests scipy computes itself (sorted once,
    on first use)."""

    def __init__(self, cell: np.ndarray, values: np.ndarray, width: int) -> None:
        self.cell, self.values, self.width, self.order = cell, values, width, None

    def __call__(self, k: int, present: np.ndarray) -> list[np.ndarray]:
        if self.order is None:
            # Stable, so each sample keeps the frame's order.
            self.order = ranktests.stable_order(self.cell)
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

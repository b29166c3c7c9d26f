"""Differences between stakeholder groups on each item of one round.

Experts whose ``group`` is "" belong to no stakeholder group and are left out of the
comparison. A group takes part in an item's test when it has at least one valid answer.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import stats

from analysis.frames import validate_long

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
    # Sorted once by item and group (stable, so each sample keeps the frame's order), then cut.
    by_key = df.groupby(KEYS, sort=True)
    keys, key_ids = list(by_key.size().index), by_key.ngroup().to_numpy()
    group_codes, groups = pd.factorize(df["group"], sort=True)
    combined = key_ids.astype(np.int64) * max(len(groups), 1) + group_codes
    small = np.int16 if combined.size and combined.max() < 2**15 else np.int64
    order = np.argsort(combined.astype(small), kind="stable")
    combined, values = combined[order], df["value"].to_numpy()[order]
    bounds = np.searchsorted(key_ids[order], np.arange(len(keys) + 1))
    rows = []
    for k, key in enumerate(keys):
        part = slice(bounds[k], bounds[k + 1])
        cuts = np.flatnonzero(np.diff(combined[part])) + 1
        rows.append((*key, *_test(np.split(values[part], cuts))))
    out = pd.DataFrame(rows, columns=[*KEYS, *GROUP_COLUMNS])
    out = out.loc[out["n_groups"].ge(2)].reset_index(drop=True)
    return out.astype({"statistic": "float64", "p": "float64", "n_groups": "int64", "n": "int64"})


def _test(samples: list[np.ndarray]) -> tuple[str, float, float, int, int]:
    # One test per item: rank tests have no vectorized form across unequal samples.
    n = sum(len(sample) for sample in samples)
    if len(samples) < 2:
        return ("", np.nan, np.nan, len(samples), n)
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

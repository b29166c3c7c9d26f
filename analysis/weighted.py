"""Expertise-weighted median and % agreement, shown beside the unweighted figures.

The frame carries a ``weight`` column (in the platform: the expert's self-rated expertise,
1-5, on the item's theme). Answers whose weight is missing or not positive are left out of
the weighted figures, so they describe the experts who rated their expertise.

The weighted median is the value at which the cumulative weight of the sorted answers first
reaches half of the total weight; when it reaches exactly half, it is the mean of that value
and the next one. With equal weights this is the ordinary median (the middle value, or the
mean of the two middle values).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from analysis.frames import group_index, group_keys, validate_long

DEFAULT_BY: tuple[str, ...] = ("round", "item", "dimension")
WEIGHTED_COLUMNS: tuple[str, ...] = ("w_n", "w_total", "w_median", "w_pct_agree")


def weighted_summary(
    frame: pd.DataFrame,
    *,
    weight: str = "weight",
    agree_min: float = 4,
    by: Sequence[str] = DEFAULT_BY,
) -> pd.DataFrame:
    """Return one row per `by` key with the weighted median and weighted % agreement.

    w_n counts the answers with a positive weight, w_total adds their weights; keys whose
    answers all lack a weight get w_n 0 and NaN figures.
    """
    df = validate_long(frame)
    keys = group_keys(df, by)
    if weight not in df.columns:
        raise ValueError(f"weighted_summary needs a '{weight}' column")
    w = pd.to_numeric(df[weight], errors="coerce").astype("float64").to_numpy()
    if np.isinf(w).any():
        raise ValueError(f"column '{weight}' must be finite")
    # Each row's group, numbered in sorted key order: the rest works on that one integer.
    index, ids = group_index(df, keys)
    keys_n = len(index)
    values = df["value"].to_numpy(dtype="float64")
    ok = ~np.isnan(values) & (w > 0)  # (a NaN weight is not > 0)
    group_id, value, w = ids[ok], values[ok], w[ok]
    order = _by_group_and_value(group_id, value)
    group_id, value, w = group_id[order], value[order], w[order]
    w_n = np.bincount(group_id, minlength=keys_n)
    some = w_n > 0
    w_total = np.where(some, np.bincount(group_id, weights=w, minlength=keys_n), np.nan)
    agreeing = np.bincount(group_id, weights=np.where(value >= agree_min, w, 0.0),
                           minlength=keys_n)
    out = pd.DataFrame(index=index)
    out["w_n"] = w_n.astype("int64")
    out["w_total"] = w_total
    out["w_median"] = _weighted_median(group_id, value, w, w_total)
    out["w_pct_agree"] = np.where(some, agreeing, np.nan) / np.where(w_total > 0, w_total,
                                                                     np.nan) * 100.0
    return out.loc[:, list(WEIGHTED_COLUMNS)].reset_index()


def _weighted_median(group_id: np.ndarray, value: np.ndarray, w: np.ndarray,
                     total: np.ndarray) -> np.ndarray:
    """Per group, the weighted median of answers sorted by group, then value. Cumulative
    weights run up each group's answers (whole-number weights, as the platform's 1-5
    ratings, add up exactly; others within floating-point rounding)."""
    keys_n = len(total)
    median = np.full(keys_n, np.nan)
    if not len(group_id):
        return median
    starts = np.searchsorted(group_id, np.arange(keys_n))
    running = np.cumsum(w)
    before = np.where(starts > 0, running[np.maximum(starts - 1, 0)], 0.0)
    cum = running - before[group_id]
    half = total[group_id] / 2.0
    exactly_half = np.isclose(cum, half, rtol=1e-12, atol=0.0)
    reached = (cum > half) | exactly_half
    following = np.append(value[1:], np.nan)
    following[np.r_[group_id[1:] != group_id[:-1], True]] = np.nan  # a group's last answer
    middle = np.where(exactly_half & ~np.isnan(following), (value + following) / 2, value)
    rows = np.flatnonzero(reached)
    first = rows[np.r_[True, group_id[rows][1:] != group_id[rows][:-1]]]
    median[group_id[first]] = middle[first]
    return median


def _by_group_and_value(group_id: np.ndarray, value: np.ndarray) -> np.ndarray:
    """The stable sort order by group, then value (an integer sort key: a scale has few
    distinct values, so the key is small and numpy sorts it by radix)."""
    codes, uniques = pd.factorize(value, sort=True)
    key = group_id.astype(np.int64) * max(len(uniques), 1) + codes
    small = np.int16 if key.size and key.max() < 2**15 else np.int64
    return np.argsort(key.astype(small), kind="stable")

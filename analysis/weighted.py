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

from analysis.frames import group_keys, group_numbers, validate_long

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
    w = pd.to_numeric(df[weight], errors="coerce").astype("float64")
    if np.isinf(w).any():
        raise ValueError(f"column '{weight}' must be finite")
    # Each row's group, numbered in sorted key order: the rest groups by that one integer.
    by_key = df.groupby(keys, sort=True)
    index, ids = by_key.size().index, group_numbers(df, keys, by_key)
    ok = (df["value"].notna() & w.gt(0)).to_numpy()
    valid = pd.DataFrame({"group_id": ids[ok], "value": df["value"].to_numpy()[ok],
                          "w": w.to_numpy()[ok]})
    valid = valid.take(_by_group_and_value(valid["group_id"].to_numpy(), valid["value"].to_numpy()))
    grouped = valid.groupby("group_id", sort=True)
    every = pd.RangeIndex(len(index))
    out = pd.DataFrame(index=index)
    out["w_n"] = grouped.size().reindex(every, fill_value=0).to_numpy(dtype="int64")
    out["w_total"] = grouped["w"].sum().reindex(every).to_numpy()
    out["w_median"] = _weighted_median(valid).reindex(every).to_numpy()
    agree = valid["w"].where(valid["value"].ge(agree_min), 0.0)
    agreeing = agree.groupby(valid["group_id"], sort=True).sum().reindex(every).to_numpy()
    out["w_pct_agree"] = agreeing / out["w_total"].where(out["w_total"] > 0) * 100.0
    out.loc[out["w_n"].eq(0), "w_total"] = np.nan
    return out.loc[:, list(WEIGHTED_COLUMNS)].reset_index()


def _weighted_median(valid: pd.DataFrame) -> pd.Series:
    # `valid` is sorted by group and value, so cumulative weights run up each group's answers.
    grouped = valid.groupby("group_id", sort=False)
    cum = grouped["w"].cumsum()
    half = grouped["w"].transform("sum") / 2.0
    exactly_half = np.isclose(cum, half, rtol=1e-12, atol=0.0)
    reached = (cum > half) | exactly_half
    following = grouped["value"].shift(-1)
    median = valid["value"].where(~exactly_half | following.isna(), (valid["value"] + following) / 2)
    first = valid[["group_id"]].assign(median=median)[reached]
    first = first.groupby("group_id", sort=True).head(1)
    return first.set_index("group_id")["median"]


def _by_group_and_value(group_id: np.ndarray, value: np.ndarray) -> np.ndarray:
    """The stable sort order by group, then value (an integer sort key: a scale has few
    distinct values, so the key is small and numpy sorts it by radix)."""
    codes, uniques = pd.factorize(value, sort=True)
    key = group_id.astype(np.int64) * max(len(uniques), 1) + codes
    small = np.int16 if key.size and key.max() < 2**15 else np.int64
    return np.argsort(key.astype(small), kind="stable")

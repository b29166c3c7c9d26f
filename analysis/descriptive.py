"""Per-item descriptive statistics and consensus measures over long-format answers.

Quantiles use linear interpolation (numpy/pandas default, R type 7); SPSS's type 6 gives
different quartiles on small panels and can flip an IQR-based consensus verdict.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from pandas.api.typing import SeriesGroupBy

from analysis.frames import (
    group_index,
    group_keys,
    numbered_groupby,
    require_scale,
    validate_long,
)

DEFAULT_BY: tuple[str, ...] = ("round", "item", "dimension")

RATED_COLUMNS: tuple[str, ...] = (
    "n", "no_opinion", "median", "q1", "q3", "iqr", "mean", "sd", "cv",
    "pct_agree", "pct_disagree", "tastle_wierman", "distribution",
)  # fmt: skip
ESTIMATE_COLUMNS: tuple[str, ...] = (
    "n", "no_opinion", "median", "q1", "q3", "iqr", "p10", "p90", "mean", "sd",
)  # fmt: skip
RAND_UCLA_COLUMNS: tuple[str, ...] = (
    "n", "p30", "p70", "ipr", "iprcp", "ai", "ipras", "di", "disagreement",
)  # fmt: skip

# RAND/UCLA is defined on a 1-9 appropriateness scale whose midpoint is 5 (Fitch et al. 2001).
_RAND_SCALE = (1, 9)
_RAND_MIDPOINT = 5.0


def boxes(scale_min: float, scale_max: float) -> tuple[float, float]:
    """(top_min, bottom_max): the top boxes are the values >= top_min, the bottom boxes those
    <= bottom_max: 4-5 / 1-2 on a 5-point scale, 7-9 / 1-3 on a 9-point scale, the top and
    bottom 40 % of the range on any other. The one definition every figure uses."""
    if (scale_min, scale_max) == (1, 5):
        return 4.0, 2.0
    if (scale_min, scale_max) == (1, 9):
        return 7.0, 3.0
    width = scale_max - scale_min
    return scale_max - 0.4 * width, scale_min + 0.4 * width


def rated_summary(
    frame: pd.DataFrame,
    *,
    scale_min: int = 1,
    scale_max: int = 5,
    agree_min: float | None = None,
    disagree_max: float | None = None,
    by: Sequence[str] = DEFAULT_BY,
) -> pd.DataFrame:
    """Return one row per `by` key with the spread, agreement and consensus of rated answers.

    % agree and % disagree count the top and bottom boxes of the scale (`boxes`) unless
    `agree_min` / `disagree_max` say otherwise."""
    top_min, bottom_max = boxes(scale_min, scale_max)
    agree_min = top_min if agree_min is None else agree_min
    disagree_max = bottom_max if disagree_max is None else disagree_max
    df = validate_long(frame)
    keys = group_keys(df, by)
    values = df["value"].to_numpy(dtype="float64")
    require_scale(values, scale_min, scale_max)
    # Each row's group, numbered in sorted order of the keys: grouping is most of the cost.
    index, ids = group_index(df, keys)
    points = np.arange(scale_min, scale_max + 1)
    counts = point_counts(values, ids, len(index), scale_min, len(points))
    n = counts.sum(axis=1)
    out = pd.DataFrame({"n": n, "no_opinion": np.bincount(ids, minlength=len(index)) - n},
                       index=index)
    out["median"] = scale_quantile(counts, points, 0.5, median=True)
    out["q1"] = scale_quantile(counts, points, 0.25)
    out["q3"] = scale_quantile(counts, points, 0.75)
    out["iqr"] = out["q3"] - out["q1"]
    # Means and SDs are pandas' own (its SD adds in a way of its own; a count-based one
    # could differ in the last digit).
    grouped = numbered_groupby(values, ids, len(index))
    out["mean"] = grouped.mean().to_numpy()
    out["sd"] = grouped.std(ddof=1).to_numpy()
    out["cv"] = _ratio(out["sd"], out["mean"])
    # Comparisons with NaN are False, so no-opinion rows never count as agreeing.
    out["pct_agree"] = _percent(values >= agree_min, ids, out["n"])
    out["pct_disagree"] = _percent(values <= disagree_max, ids, out["n"])
    out["tastle_wierman"] = _tastle_wierman(values, ids, out["mean"], scale_max - scale_min)
    out["distribution"] = _distribution(counts, index, points)
    return out.loc[:, list(RATED_COLUMNS)].reset_index()


def estimate_summary(frame: pd.DataFrame, *, by: Sequence[str] = DEFAULT_BY) -> pd.DataFrame:
    """Return one row per `by` key with quartiles, deciles, mean and SD of numeric estimates."""
    df = validate_long(frame)
    keys = group_keys(df, by)
    grouped = df.groupby(keys, sort=True)["value"]
    out = _location_and_spread(grouped)
    out["p10"], out["p90"] = _quantiles(grouped, 0.10, 0.90)
    return out.loc[:, list(ESTIMATE_COLUMNS)].reset_index()


def consensus_met(
    summary: pd.DataFrame, *, agree_pct: float = 75.0, iqr_max: float = 1.0
) -> pd.Series:
    """Return, per summary row, whether pct_agree >= agree_pct and iqr <= iqr_max with n > 0
    (analysis.consensus.rule_met under that rule, NA read as not met)."""
    from analysis.consensus import rule_met, study_rule

    _require_columns(summary, ("n", "pct_agree", "iqr"), "consensus_met")
    met = rule_met(summary, study_rule(agree_pct=agree_pct, iqr_max=iqr_max))
    return met.fillna(False).astype(bool).rename("consensus")


def apmo_cutoff(summary: pd.DataFrame) -> float:
    """Return the APMO cut-off (percent of agree/disagree opinions that form an item majority).

    Opinions are the agreeing and the disagreeing answers (neutral answers are neither);
    an item contributes its agreeing answers when they exceed 50% of its valid answers, and
    its disagreeing answers likewise. Pass one round's summary: pooling rounds, or per-group
    rows, would count an expert's opinion more than once.
    """
    _require_columns(summary, ("n", "pct_agree", "pct_disagree"), "apmo_cutoff")
    if "round" in summary.columns and summary["round"].drop_duplicates().size > 1:
        raise ValueError("apmo_cutoff takes the summary of one round; filter on 'round' first")
    n = summary["n"].astype("float64")
    agree = summary["pct_agree"].fillna(0.0)
    disagree = summary["pct_disagree"].fillna(0.0)
    opinions = ((agree + disagree) / 100.0 * n).sum()
    majority = (agree.where(agree > 50.0, 0.0) + disagree.where(disagree > 50.0, 0.0)) / 100.0 * n
    if opinions == 0:
        return float("nan")
    return float(majority.sum() / opinions * 100.0)


def rand_ucla(frame: pd.DataFrame, *, by: Sequence[str] = DEFAULT_BY) -> pd.DataFrame:
    """Return RAND/UCLA disagreement figures (IPR, IPRAS, DI) per `by` key of 1-9 ratings."""
    df = validate_long(frame)
    keys = group_keys(df, by)
    require_scale(df["value"], *_RAND_SCALE)
    grouped = df.groupby(keys, sort=True)["value"]
    out = pd.DataFrame({"n": grouped.count()})
    out["p30"], out["p70"] = _quantiles(grouped, 0.30, 0.70)
    out["ipr"] = out["p70"] - out["p30"]
    out["iprcp"] = (out["p30"] + out["p70"]) / 2.0
    out["ai"] = (_RAND_MIDPOINT - out["iprcp"]).abs()
    out["ipras"] = 2.35 + 1.5 * out["ai"]
    out["di"] = out["ipr"] / out["ipras"]
    out["disagreement"] = out["di"].gt(1.0)
    return out.loc[:, list(RAND_UCLA_COLUMNS)].reset_index()


def _location_and_spread(grouped: SeriesGroupBy) -> pd.DataFrame:
    n = grouped.count()
    out = pd.DataFrame({"n": n, "no_opinion": grouped.size() - n})
    out["median"] = grouped.median()
    out["q1"], out["q3"] = _quantiles(grouped, 0.25, 0.75)
    out["iqr"] = out["q3"] - out["q1"]
    out["mean"] = grouped.mean()
    out["sd"] = grouped.std(ddof=1)
    return out


def _quantiles(grouped: SeriesGroupBy, *qs: float) -> list[np.ndarray]:
    # One call sorts each group once for every q (the same interpolation as one call per q).
    values = grouped.quantile(list(qs)).to_numpy().reshape(-1, len(qs))
    return [values[:, k] for k in range(len(qs))]


def _ratio(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    # A zero mean (possible on scales that include 0) makes the CV meaningless, not infinite.
    return (numerator / denominator).replace([np.inf, -np.inf], np.nan)


def _percent(hit: np.ndarray, ids: np.ndarray, n: pd.Series) -> pd.Series:
    # Counts of hits per group: whole numbers, so adding them in any way gives the same sum.
    hits = np.bincount(ids, weights=hit.astype("float64"), minlength=len(n))
    return (pd.Series(hits, index=n.index) / n.where(n > 0)) * 100.0


def _tastle_wierman(values: np.ndarray, ids: np.ndarray, mean: pd.Series, width: int) -> np.ndarray:
    # sum_i p_i log2(...) over categories equals the mean of log2(...) over the answers.
    mu = mean.to_numpy()[ids]
    term = np.log2(1.0 - np.abs(values - mu) / width)
    return 1.0 + numbered_groupby(term, ids, len(mean)).mean().to_numpy()


def point_counts(values: np.ndarray, ids: np.ndarray, groups: int, scale_min: int,
                  width: int) -> np.ndarray:
    """(groups x scale points) how many answers of each group gave each point; the values are
    points of the scale (require_scale), NaN rows are counted nowhere."""
    counted = ~np.isnan(values)
    point = (values[counted] - scale_min).astype(np.int64)
    cells = np.bincount(ids[counted] * width + point, minlength=groups * width)
    return cells.reshape(groups, width).astype(np.int64)


def scale_quantile(counts: np.ndarray, points: np.ndarray, q: float, *,
                    median: bool = False) -> np.ndarray:
    """Each group's q-quantile from its counts per scale point, by pandas' rule to the last
    bit: the k-th smallest answers, linear interpolation (R type 7); the median averages the
    two middle answers of an even count. NaN for a group without answers. No sort of the
    answers: the counts hold them in order already."""
    n = counts.sum(axis=1)
    below = np.cumsum(counts, axis=1)

    def kth(k: np.ndarray) -> np.ndarray:  # the k-th smallest answer (from 0) of each group
        at = (below <= np.maximum(k, 0)[:, None]).sum(axis=1)
        return points[np.minimum(at, len(points) - 1)].astype("float64")

    with np.errstate(invalid="ignore"):
        if median:
            result = np.where(n % 2 == 1, kth(n // 2), (kth(n // 2) + kth(n // 2 - 1)) / 2)
        else:
            at = q * (n - 1).astype("float64")
            first = at.astype(np.int64)
            frac = np.fmod(at, 1.0)
            low, high = kth(first), kth(np.minimum(first + 1, n - 1))
            result = np.where(frac == 0.0, low, low + (high - low) * frac)
    return np.where(n > 0, result, np.nan)


def _distribution(counts: np.ndarray, index: pd.Index, points: np.ndarray) -> pd.Series:
    # Every point of the scale is a key, zero when nobody chose it.
    table = pd.DataFrame(counts, index=index, columns=[int(p) for p in points])
    return pd.Series(table.to_dict(orient="records"), index=index, dtype=object)


def _require_columns(summary: pd.DataFrame, columns: Sequence[str], caller: str) -> None:
    missing = [column for column in columns if column not in summary.columns]
    if missing:
        raise ValueError(f"{caller} needs summary column(s): {', '.join(missing)}")

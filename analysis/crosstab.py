"""Weighted estimates per item, overall and per category of a respondent column (a crosstab).

Per round, item (and dimension) and category: the weighted distribution over the scale points,
% agree (the top boxes, `analysis.descriptive.boxes`), mean and median, with 95 % intervals.

- Intervals use Kish's design effect of the row's weights: deff = n Σw² / (Σw)², effective
  sample size n_eff = n / deff. % agree: the Wilson score interval with n_eff in place of n
  (`wilson`; it stays inside 0-100 % and is not a point at 0 % or 100 %). Mean: the normal
  interval mean ± 1.96 · sqrt(S² / n_eff), S² = Σw (y - ȳ)² / Σw, cut to the scale's ends.
- Beside them, the Taylor-linearization standard errors of samplics' ``TaylorEstimator``
  (``*_se_taylor``): design-based, with-replacement, each respondent their own unit, the
  weights taken as fixed. Both ignore the variance that post-stratification or raking removes,
  so they are on the safe (wide) side.
- The weighted median is `analysis.weighted`'s (the value where the cumulative weight reaches
  half the total).

Respondents flagged by the quality checks (a true `flagged` column) are left out unless
`include_flagged`, and counted per row in `flagged_excluded`.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence

import numpy as np
import pandas as pd

from analysis.descriptive import boxes
from analysis.frames import group_index, require_scale, validate_long
from analysis.weighted import weighted_summary
from analysis.weights import flagged_column, samplics

KEYS: tuple[str, ...] = ("round", "item", "dimension")
Z95 = statistics.NormalDist().inv_cdf(0.975)
CROSSTAB_COLUMNS: tuple[str, ...] = (
    "flagged_excluded", "n", "weighted_n", "n_eff", "deff", "pct_agree", "pct_agree_ci_low",
    "pct_agree_ci_high", "pct_agree_se_taylor", "mean", "mean_ci_low", "mean_ci_high",
    "mean_se_taylor", "median", "distribution",
)  # fmt: skip


def weighted_crosstab(
    frame: pd.DataFrame,
    *,
    by: str | None = None,
    weight: str = "weight",
    scale_min: int = 1,
    scale_max: int = 5,
    agree_min: float | None = None,
    include_flagged: bool = False,
) -> pd.DataFrame:
    """One row per round, item, dimension and `category` of the `by` column, after a row for
    all respondents (`category` None), with the columns of `CROSSTAB_COLUMNS`.

    `weight` is each answer's respondent weight (positive; a respondent left out may have
    NaN only when flagged and not included). Without `by` there are only the rows for all."""
    df = validate_long(frame)
    if weight not in df.columns:
        raise ValueError(f"weighted_crosstab needs a '{weight}' column")
    if by is not None and by not in df.columns:
        raise ValueError(f"the data has no column '{by}' to break the estimates down by")
    require_scale(df["value"], scale_min, scale_max)
    agree_min = boxes(scale_min, scale_max)[0] if agree_min is None else agree_min
    flagged = flagged_column(df).to_numpy()
    answered = df["value"].notna().to_numpy()
    left_out = flagged & answered & (not include_flagged)
    df = df.assign(_flagged_out=left_out, category=_categories(df, by))
    kept = df.loc[answered & ~left_out]
    w = pd.to_numeric(kept[weight], errors="coerce").to_numpy(dtype="float64")
    bad = ~np.isfinite(w) | (w <= 0)
    if bad.any():
        expert = kept["expert"].to_numpy()[bad][0]
        raise ValueError(f"respondent {str(expert)!r} has no positive weight "
                         f"({_shown(w[bad][0])}); every respondent estimated needs one")
    kept = kept.assign(**{weight: w})
    scale = (scale_min, scale_max)
    parts = [_table(kept, df, list(KEYS), weight, agree_min, scale).assign(category=None)]
    if by is not None:
        parts.append(_table(kept, df, [*KEYS, "category"], weight, agree_min, scale))
    out = pd.concat(parts, ignore_index=True)
    out["by"] = by
    out["_total"] = out["category"].isna()
    out = out.sort_values([*KEYS, "_total", "category"], ascending=[True, True, True, False, True],
                          kind="stable", na_position="first")
    return out.loc[:, [*KEYS, "by", "category", *CROSSTAB_COLUMNS]].reset_index(drop=True)


def _categories(df: pd.DataFrame, by: str | None) -> pd.Series:
    if by is None:
        return pd.Series("", index=df.index)
    column = df[by]
    if pd.api.types.is_float_dtype(column.dtype):
        whole = column.dropna()
        if (whole == whole.round()).all():
            column = column.astype("Int64")
    return column.astype(object).where(column.notna(), "").map(str)


def _table(kept: pd.DataFrame, everyone: pd.DataFrame, keys: list[str], weight: str,
           agree_min: float, scale: tuple[int, int]) -> pd.DataFrame:
    """The figures of one breakdown (`keys`) over the kept answers."""
    index, ids = group_index(kept, keys)
    groups = len(index)
    value = kept["value"].to_numpy(dtype="float64")
    w = kept[weight].to_numpy(dtype="float64")
    agrees = (value >= agree_min).astype("float64")
    n = np.bincount(ids, minlength=groups)
    total = np.bincount(ids, weights=w, minlength=groups)
    squares = np.bincount(ids, weights=w * w, minlength=groups)
    n_eff = total**2 / squares
    mean = np.bincount(ids, weights=w * value, minlength=groups) / total
    spread = np.bincount(ids, weights=w * (value - mean[ids]) ** 2, minlength=groups) / total
    p = np.bincount(ids, weights=w * agrees, minlength=groups) / total
    out = pd.DataFrame(index=index).reset_index()
    out["n"] = n.astype("int64")
    out["weighted_n"] = total
    out["n_eff"] = n_eff
    out["deff"] = n / n_eff
    out["pct_agree"] = p * 100
    out["pct_agree_ci_low"], out["pct_agree_ci_high"] = wilson(p, n_eff) * 100
    out["mean"] = mean
    half = Z95 * np.sqrt(spread / n_eff)
    out["mean_ci_low"] = np.clip(mean - half, *scale)
    out["mean_ci_high"] = np.clip(mean + half, *scale)
    order = np.argsort(ids, kind="stable")
    starts = np.searchsorted(ids[order], np.arange(groups + 1))
    out["pct_agree_se_taylor"] = _taylor(agrees, w, order, starts) * 100
    out["mean_se_taylor"] = _taylor(value, w, order, starts)
    median = weighted_summary(kept, weight=weight, agree_min=agree_min, by=keys)
    out["median"] = median["w_median"].to_numpy()
    out["distribution"] = _distribution(value, w, ids, total, scale)
    out["flagged_excluded"] = _flagged_out(everyone, out, keys)
    return out


def wilson(p: np.ndarray, n_eff: np.ndarray) -> np.ndarray:
    """The 95 % Wilson score interval of proportions `p` on effective sample sizes `n_eff`:
    (centre ± half) with centre = (p + z²/2m) / (1 + z²/m) and
    half = z / (1 + z²/m) · sqrt(p (1 - p) / m + z² / 4m²), m = n_eff. Rows (low, high)."""
    z2 = Z95**2
    scale = 1 + z2 / n_eff
    centre = (p + z2 / (2 * n_eff)) / scale
    half = Z95 / scale * np.sqrt(p * (1 - p) / n_eff + z2 / (4 * n_eff**2))
    return np.array([np.clip(centre - half, 0, 1), np.clip(centre + half, 0, 1)])


def _taylor(y: np.ndarray, w: np.ndarray, order: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Per group, samplics' Taylor-linearization standard error of the weighted mean of `y`
    (NaN below two answers)."""
    out = np.full(len(starts) - 1, np.nan)
    for group in range(len(out)):
        rows = order[starts[group]:starts[group + 1]]
        if len(rows) >= 2:
            out[group] = taylor_se(y[rows], w[rows])
    return out


def taylor_se(y: Sequence[float] | np.ndarray, w: Sequence[float] | np.ndarray, *,
              stratum: Sequence | None = None, psu: Sequence | None = None) -> float:
    """samplics' Taylor-linearization standard error of the weighted mean of `y` (with a
    stratified or clustered design when `stratum` / `psu` are given)."""
    y = np.asarray(y, dtype="float64")
    if stratum is None and psu is None and np.ptp(y) == 0:
        return 0.0  # all answers alike: no variance (samplics would divide by a zero mean)
    library = samplics()
    estimator = library.TaylorEstimator(library.PopParam.mean)
    with np.errstate(all="ignore"):
        estimator.estimate(y=y, samp_weight=np.asarray(w, dtype="float64"),
                           stratum=stratum, psu=psu, remove_nan=True)
    return float(estimator.stderror)


def _distribution(value: np.ndarray, w: np.ndarray, ids: np.ndarray, total: np.ndarray,
                  scale: tuple[int, int]) -> list[dict[int, float]]:
    """Per group, the weighted % of the answers at each scale point."""
    points = list(range(scale[0], scale[1] + 1))
    code = value.astype(np.int64) - scale[0]
    cells = np.bincount(ids * len(points) + code, weights=w, minlength=len(total) * len(points))
    shares = cells.reshape(len(total), len(points)) / total[:, None] * 100
    return [dict(zip(points, map(float, row), strict=True)) for row in shares]


def _flagged_out(everyone: pd.DataFrame, out: pd.DataFrame, keys: list[str]) -> np.ndarray:
    """Per row of `out`, the flagged answers left out."""
    left = everyone.loc[everyone["_flagged_out"].to_numpy(), keys]
    if left.empty:
        return np.zeros(len(out), dtype=np.int64)
    counts = left.groupby(keys, observed=True).size().rename("_count").reset_index()
    counts[keys] = counts[keys].astype(object)
    merged = out[keys].astype(object).merge(counts, on=keys, how="left")
    return merged["_count"].fillna(0).to_numpy(dtype=np.int64)


def _shown(value: float) -> str:
    return "missing" if math.isnan(value) else f"{value:g}"

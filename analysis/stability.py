"""Stability of rated answers between two rounds (Wilcoxon, change shares, Scheibe's 15% rule).

Paired measures (n_pairs, Wilcoxon, pct_changed) use only experts with a valid answer in
both rounds. Panel measures (cv_change, distribution_change) use every valid answer of each
round, because the feedback panelists saw was computed from the whole round.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pandas.api.typing import SeriesGroupBy

from analysis import ranktests
from analysis.descriptive import point_counts, scale_quantile
from analysis.frames import group_index, numbered_groupby, require_scale, validate_long

KEYS: list[str] = ["item", "dimension"]
STABILITY_COLUMNS: tuple[str, ...] = (
    "n_pairs", "wilcoxon_statistic", "wilcoxon_p", "pct_changed",
    "iqr_change", "cv_change", "distribution_change", "stable",
)  # fmt: skip

# Scheibe, Skutsch & Schofer (1975): a distribution that moves less than 15% is stable.
STABLE_BELOW_PCT = 15.0


# Scheibe's rule as a stability rule mapping (the default of `stability`).
SCHEIBE = {"kind": "distribution", "change_below_pct": STABLE_BELOW_PCT}


def stable_under(table: pd.DataFrame, rule: dict | None = None) -> pd.Series:
    """Per row of a stability table (n_pairs, wilcoxon_p, distribution_change): whether it is
    stable under the rule, None where nobody answered both rounds.

    `{"kind": "wilcoxon", "p_above": 0.05}`: the signed-rank test finds no change (p above the
    bound; no expert moving at all is stable); `{"kind": "distribution", "change_below_pct": 15}`:
    the distribution moved less than that (Scheibe et al. 1975; the default), None where there
    is no distribution change (continuous values).
    """
    rule = rule or SCHEIBE
    if rule["kind"] == "wilcoxon":
        p = pd.to_numeric(table["wilcoxon_p"], errors="coerce")
        met = p.isna() | p.gt(rule["p_above"])
    elif rule["kind"] == "distribution":
        change = pd.to_numeric(table["distribution_change"], errors="coerce")
        # No distribution change (continuous values have no scale points to share): no verdict.
        met = change.lt(rule["change_below_pct"]).astype(object).where(change.notna(), None)
    else:
        raise ValueError(f"unknown stability rule kind {rule['kind']!r}")
    paired = pd.to_numeric(table["n_pairs"], errors="coerce").fillna(0).gt(0)
    return met.astype(object).where(paired, None).rename("stable")


def stability(
    frame: pd.DataFrame,
    *,
    from_round: int,
    to_round: int,
    scale_min: int | None = 1,
    scale_max: int | None = 5,
    rule: dict | None = None,
) -> pd.DataFrame:
    """Return one row per (item, dimension) answered in either round measuring change between them.

    With scale_min and scale_max None the values are continuous (a probability, a year, an
    estimate): nothing is checked against a scale and distribution_change, which compares the
    shares of scale points, is NaN (so is `stable` under Scheibe's rule).

    wilcoxon_statistic is scipy's two-sided statistic (the smaller of the signed-rank sums)
    with zero differences dropped; statistic and p are NaN when no pair changed. `stable` is
    the verdict under `rule` (see `stable_under`; Scheibe's 15 % rule by default).
    """
    if from_round == to_round:
        raise ValueError("from_round and to_round must differ")
    df = validate_long(frame)
    rounds = df["round"].to_numpy()
    in_rounds = (rounds == from_round) | (rounds == to_round)
    if not in_rounds.all():  # (a copy of a million rows is worth skipping)
        df = df.loc[in_rounds]
    if scale_min is not None and scale_max is not None:
        require_scale(df["value"], scale_min, scale_max)
    # Each answer's (item, dimension), numbered in sorted order: the rest groups by it.
    index, key = group_index(df, KEYS)
    values, rounds = df["value"].to_numpy(), df["round"].to_numpy()
    valid = ~np.isnan(values)
    pair_key, difference = _paired_differences(df, key, valid, from_round, to_round)
    out = pd.DataFrame(index=index)
    n_pairs = np.bincount(pair_key, minlength=len(index))
    out["n_pairs"] = n_pairs.astype("int64")
    tests = _wilcoxon_by_item(pair_key, difference, len(index))
    out["wilcoxon_statistic"], out["wilcoxon_p"] = tests[:, 0], tests[:, 1]
    changed = np.bincount(pair_key, weights=(difference != 0).astype("float64"),
                          minlength=len(index))
    out["pct_changed"] = np.where(n_pairs > 0, changed / np.maximum(n_pairs, 1), np.nan) * 100.0
    before, after = valid & (rounds == from_round), valid & (rounds == to_round)
    # Each round's valid answers grouped by key (a key without answers gets NaN).
    if scale_min is None or scale_max is None:
        grouped_before = numbered_groupby(values[before], key[before], len(index))
        grouped_after = numbered_groupby(values[after], key[after], len(index))
        out["cv_change"] = _cv(grouped_after) - _cv(grouped_before)
        out["iqr_change"] = _iqr(grouped_after) - _iqr(grouped_before)
        out["distribution_change"] = np.nan
    else:  # points of a scale: every statistic from each key's counts per point
        points = np.arange(scale_min, scale_max + 1)
        counts_before, counts_after = (
            point_counts(values[rows], key[rows], len(index), scale_min, len(points))
            for rows in (before, after))
        out["cv_change"] = _scale_cv(counts_after, points) - _scale_cv(counts_before, points)
        out["iqr_change"] = _scale_iqr(counts_after, points) - _scale_iqr(counts_before, points)
        out["distribution_change"] = _distribution_change(counts_before, counts_after)
    out["stable"] = stable_under(out, rule)
    return out.loc[:, list(STABILITY_COLUMNS)].reset_index()


def _paired_differences(
    df: pd.DataFrame, key: np.ndarray, valid: np.ndarray, from_round: int, to_round: int
) -> tuple[np.ndarray, np.ndarray]:
    """(key, round-to-round difference) of each expert's pair of valid answers.

    Answers are unique per expert, round, item and dimension, so a pair is the one answer of
    each round under the same key and expert, found on one integer per answer (several times
    faster than a join on three columns of a million answers).
    """
    if isinstance(df["expert"].dtype, pd.CategoricalDtype):
        experts, count = df["expert"].cat.codes.to_numpy(), len(df["expert"].cat.categories)
    else:
        experts, labels = pd.factorize(df["expert"])
        count = len(labels)
    answer = key.astype(np.int64) * max(count, 1) + experts
    rounds, values = df["round"].to_numpy(), df["value"].to_numpy()
    is_from, is_to = valid & (rounds == from_round), valid & (rounds == to_round)
    at_from, at_to = _common(answer[is_from], answer[is_to], int(key.max(initial=0) + 1) * count)
    return key[is_to][at_to], values[is_to][at_to] - values[is_from][at_from]


def _common(a: np.ndarray, b: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """The positions in `a` and in `b` of the values both hold (each unique, from 0 to
    size - 1). The pairs come in no particular order: every statistic made of them is a count
    or a sum of whole and half ranks, the same in any order. By a table of the positions in
    `a` when `size` is moderate (one pass over each), else `np.intersect1d`."""
    if size > 8 * (len(a) + len(b)) + 1_000_000:
        _, at_a, at_b = np.intersect1d(a, b, assume_unique=True, return_indices=True)
        return at_a, at_b
    position = np.full(size, -1, dtype=np.int64)
    position[a] = np.arange(len(a))
    at_a = position[b]
    found = at_a >= 0
    return at_a[found], np.flatnonzero(found)


def _wilcoxon_by_item(pair_key: np.ndarray, difference: np.ndarray, keys: int) -> np.ndarray:
    """(statistic, p) per key: every key's non-zero differences ranked at once (see
    analysis.ranktests); scipy itself for the keys of 50 pairs or fewer, where it may choose
    an exact or a permutation test."""
    tests = np.full((keys, 2), np.nan)
    changed = difference != 0
    key, moved = pair_key[changed].astype(np.int64), difference[changed]
    ranks, ties, _ = ranktests.average_ranks(key, np.abs(moved), keys)
    r_plus = np.bincount(key, weights=np.where(moved > 0, ranks, 0.0), minlength=keys)
    r_minus = np.bincount(key, weights=np.where(moved < 0, ranks, 0.0), minlength=keys)
    count = np.bincount(key, minlength=keys)
    pairs = np.bincount(pair_key, minlength=keys)
    order = None
    for k in np.flatnonzero(count):  # no test where nothing changed (scipy: p = 1, a warning)
        if pairs[k] > 50:
            tests[k] = ranktests.wilcoxon(r_plus[k], r_minus[k], int(count[k]), ties[k])
            continue
        if order is None:
            order = ranktests.stable_order(pair_key)
            bounds = np.searchsorted(pair_key[order], np.arange(keys + 1))
        tests[k] = _wilcoxon(difference[order[bounds[k]:bounds[k + 1]]])
    return tests


def _wilcoxon(differences: np.ndarray) -> tuple[float, float]:
    from scipy import stats  # here: importing scipy.stats costs a second the CLI need not pay

    result = stats.wilcoxon(differences, zero_method="wilcox", alternative="two-sided")
    return (float(result.statistic), float(result.pvalue))


def _cv(grouped: SeriesGroupBy) -> np.ndarray:
    cv = (grouped.std(ddof=1) / grouped.mean()).replace([np.inf, -np.inf], np.nan)
    return cv.to_numpy()


def _scale_cv(counts: np.ndarray, points: np.ndarray) -> np.ndarray:
    """SD (n - 1) over mean of each key's answers, from its (keys x points) counts: NaN for
    fewer than two answers or a mean of 0."""
    n = counts.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = counts @ points / n
        variance = (counts * (points[None, :] - mean[:, None]) ** 2).sum(axis=1) / (n - 1)
        cv = np.sqrt(variance) / mean
    return np.where((n > 1) & np.isfinite(cv), cv, np.nan)


def _iqr(grouped: SeriesGroupBy) -> np.ndarray:
    # One call sorts each key's answers once for both quartiles (each as a call of its own).
    quartiles = grouped.quantile([0.25, 0.75]).to_numpy().reshape(-1, 2)
    return quartiles[:, 1] - quartiles[:, 0]


def _scale_iqr(counts: np.ndarray, points: np.ndarray) -> np.ndarray:
    return scale_quantile(counts, points, 0.75) - scale_quantile(counts, points, 0.25)


def _distribution_change(counts_before: np.ndarray, counts_after: np.ndarray) -> np.ndarray:
    """Half the sum of absolute changes in each answer's share, in percent, from the (keys x
    scale points) counts of each round (NaN unless both rounds have valid answers)."""
    keys, width = counts_before.shape
    n_before, n_after = counts_before.sum(axis=1), counts_after.sum(axis=1)
    shares_before = counts_before / np.maximum(n_before, 1)[:, None]
    shares_after = counts_after / np.maximum(n_after, 1)[:, None]
    # Summed over the points either round used, in the order of the points, as pandas did.
    used = (counts_before > 0) | (counts_after > 0)
    moved = pd.Series(np.abs(shares_after - shares_before)[used])
    total = moved.groupby(np.repeat(np.arange(keys), width)[used.ravel()], sort=True).sum()
    moved_pct = total.reindex(pd.RangeIndex(keys)).to_numpy() / 2.0 * 100.0
    return np.where((n_before > 0) & (n_after > 0), moved_pct, np.nan)

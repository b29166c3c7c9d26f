"""Stability of rated answers between two rounds (Wilcoxon, change shares, Scheibe's 15% rule).

Paired measures (n_pairs, Wilcoxon, pct_changed) use only experts with a valid answer in
both rounds. Panel measures (cv_change, distribution_change) use every valid answer of each
round, because the feedback panelists saw was computed from the whole round.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from analysis.frames import require_scale, validate_long

KEYS: list[str] = ["item", "dimension"]
STABILITY_COLUMNS: tuple[str, ...] = (
    "n_pairs", "wilcoxon_statistic", "wilcoxon_p", "pct_changed",
    "cv_change", "distribution_change", "stable",
)  # fmt: skip

# Scheibe, Skutsch & Schofer (1975): a distribution that moves less than 15% is stable.
STABLE_BELOW_PCT = 15.0


def stability(
    frame: pd.DataFrame,
    *,
    from_round: int,
    to_round: int,
    scale_min: int = 1,
    scale_max: int = 5,
) -> pd.DataFrame:
    """Return one row per (item, dimension) answered in either round measuring change between them.

    wilcoxon_statistic is scipy's two-sided statistic (the smaller of the signed-rank sums)
    with zero differences dropped; statistic and p are NaN when no pair changed.
    """
    if from_round == to_round:
        raise ValueError("from_round and to_round must differ")
    df = validate_long(frame)
    df = df.loc[df["round"].isin([from_round, to_round])]
    require_scale(df["value"], scale_min, scale_max)
    index = df.groupby(KEYS, sort=True).size().index
    diff = _paired_differences(df, from_round, to_round)
    by_item = diff.groupby(level=KEYS, sort=True)
    out = pd.DataFrame(index=index)
    out["n_pairs"] = by_item.size().reindex(index, fill_value=0).astype("int64")
    out = out.join(_wilcoxon_by_item(diff, index))
    out["pct_changed"] = diff.ne(0).astype("float64").groupby(level=KEYS).mean() * 100.0
    before, after = _valid_answers(df, from_round), _valid_answers(df, to_round)
    out["cv_change"] = _cv(after) - _cv(before)
    out["distribution_change"] = _distribution_change(before, after)
    out["stable"] = out["distribution_change"].lt(STABLE_BELOW_PCT)
    return out.loc[:, list(STABILITY_COLUMNS)].reset_index()


def _paired_differences(df: pd.DataFrame, from_round: int, to_round: int) -> pd.Series:
    # Answers are unique per expert, round, item and dimension, so a pair is the one answer
    # of each round under the same key, found on one integer key per answer (several times
    # faster than a join on three columns of a million answers).
    valid = df.loc[df["value"].notna()]
    key = _row_keys(valid, [*KEYS, "expert"])
    rounds, values = valid["round"].to_numpy(), valid["value"].to_numpy()
    is_from, is_to = rounds == from_round, rounds == to_round
    _, at_from, at_to = np.intersect1d(key[is_from], key[is_to], assume_unique=True,
                                       return_indices=True)
    difference = values[is_to][at_to] - values[is_from][at_from]
    index = pd.MultiIndex.from_frame(valid.loc[is_to, KEYS].iloc[at_to])
    return pd.Series(difference, index=index, name="difference")


def _row_keys(frame: pd.DataFrame, keys: list[str]) -> np.ndarray:
    """One int64 per row, equal for rows with equal values in every key column."""
    combined = np.zeros(len(frame), dtype=np.int64)
    for column in keys:
        codes, uniques = pd.factorize(frame[column])
        if (int(combined.max(initial=0)) + 1) * len(uniques) >= 2**62:
            combined = pd.factorize(combined)[0].astype(np.int64)
        combined = combined * len(uniques) + codes
    return combined


def _wilcoxon_by_item(diff: pd.Series, index: pd.Index) -> pd.DataFrame:
    # Wilcoxon has no vectorized form across unequal samples, so this loops once per item.
    columns = ["wilcoxon_statistic", "wilcoxon_p"]
    rows = {key: _wilcoxon(d.to_numpy()) for key, d in diff.groupby(level=KEYS, sort=True)}
    tests = pd.DataFrame(list(rows.values()), columns=columns, dtype="float64")
    tests.index = pd.MultiIndex.from_tuples(list(rows), names=KEYS) if rows else index[:0]
    return tests.reindex(index)


def _wilcoxon(differences: np.ndarray) -> tuple[float, float]:
    # scipy returns p = 1 with a warning when nothing changed; no test was possible.
    if not np.any(differences != 0):
        return (np.nan, np.nan)
    result = stats.wilcoxon(differences, zero_method="wilcox", alternative="two-sided")
    return (float(result.statistic), float(result.pvalue))


def _valid_answers(df: pd.DataFrame, round_: int) -> pd.Series:
    answers = df.loc[df["round"].eq(round_) & df["value"].notna()]
    return answers.set_index(KEYS)["value"]


def _cv(values: pd.Series) -> pd.Series:
    grouped = values.groupby(level=KEYS, sort=True)
    return (grouped.std(ddof=1) / grouped.mean()).replace([np.inf, -np.inf], np.nan)


def _distribution_change(before: pd.Series, after: pd.Series) -> pd.Series:
    shares_before = before.groupby(level=KEYS, sort=True).value_counts(normalize=True)
    shares_after = after.groupby(level=KEYS, sort=True).value_counts(normalize=True)
    # Sorted, so the sum runs over the categories in one order whatever other items are present.
    moved = shares_after.sub(shares_before, fill_value=0.0).abs().sort_index()
    moved = moved.groupby(level=KEYS).sum() / 2.0
    # A round without valid answers has no distribution to compare, not an empty one.
    both_answered = moved.index.isin(before.index) & moved.index.isin(after.index)
    return (moved * 100.0).where(both_answered)

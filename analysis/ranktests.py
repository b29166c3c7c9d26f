"""Rank tests of many samples at once, the same to the last bit as scipy's one-at-a-time calls.

A round has a few hundred items, and scipy's Mann-Whitney U, Kruskal-Wallis H and Wilcoxon
signed-rank tests cost about a millisecond a call in overhead alone. Here every item's
answers are ranked with one sort (average ranks within each item, as scipy's `_rankdata`
gives them), rank sums and tie terms come from one `bincount` each, and only scipy's final
formulas run per item, on numpy scalars, in scipy's own order of operations (scipy 1.17:
`stats/_mannwhitneyu.py`, `stats/_stats_py.py` `kruskal`, `stats/_wilcoxon.py`). Ranks are
multiples of one half and tie terms whole numbers, so their sums are exact whichever way
they are added, and the statistics and p-values equal scipy's bit for bit
(tests/analysis/test_analysis_ranktests.py checks this against scipy itself).

Where scipy would not use the normal or chi-square approximation (small samples without
ties: an exact or a permutation distribution), the caller asks scipy; `asymptotic_*` say
when that is.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def average_ranks(key: np.ndarray, value: np.ndarray, keys: int) -> tuple[np.ndarray, np.ndarray,
                                                                           np.ndarray]:
    """Per row, the average rank (1-based, ties averaged) of `value` among the rows with the
    same `key` (integers 0 .. keys - 1); per key, the sum of t^3 - t over its runs of t tied
    values, and the size of its largest run. `value` holds no NaN."""
    codes, width = _value_codes(value)
    combined = key.astype(np.int64) * width + codes
    order = stable_order(combined)
    ordered = combined[order]
    n = len(order)
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]]) if n else np.empty(0, int)
    counts = np.diff(np.r_[starts, n])
    run_key = key[order][starts] if n else np.empty(0, np.int64)
    first_of_key = np.searchsorted(key[order], np.arange(keys))
    # scipy: the ordinal rank of a run's first element plus (count - 1) / 2, in floats.
    first = (starts - first_of_key[run_key] + 1).astype(np.float64)
    ranks = np.empty(n, dtype=np.float64)
    ranks[order] = np.repeat(first + (counts.astype(np.float64) - 1) / 2, counts)
    ties = np.bincount(run_key, weights=(counts**3 - counts).astype(np.float64), minlength=keys)
    longest = np.zeros(keys, dtype=np.int64)
    np.maximum.at(longest, run_key, counts)
    return ranks, ties, longest


def _value_codes(value: np.ndarray) -> tuple[np.ndarray, int]:
    """Integer codes in the order of the values, and their range: the values themselves when
    they are whole numbers close together (answers on a scale, their differences), without
    hashing them; else pd.factorize. Only the order matters to the ranks."""
    if len(value):
        low, high = float(value.min()), float(value.max())
        if high - low < 2**16 and bool((value == np.round(value)).all()):
            return (value - low).astype(np.int64), int(high - low) + 1
    codes, uniques = pd.factorize(value, sort=True)
    return codes.astype(np.int64), max(len(uniques), 1)


def stable_order(keys: np.ndarray) -> np.ndarray:
    """`np.argsort(keys, kind="stable")` (a stable order is the one order), by numpy's radix
    sort when the keys fit in 16 bits: several times faster on a million rows."""
    if len(keys) and keys.min() >= 0 and keys.max() < 2**16:
        return np.argsort(keys.astype(np.uint16), kind="stable")
    return np.argsort(keys, kind="stable")


def asymptotic_mannwhitneyu(n1: int, n2: int, longest_tie: int) -> bool:
    """Whether scipy's method='auto' takes the normal approximation (else the exact test)."""
    return (n1 > 8 and n2 > 8) or longest_tie > 1


def mannwhitneyu(r1: float, n1: int, n2: int, tie_term: float) -> tuple[float, float]:
    """Two-sided Mann-Whitney U (continuity-corrected normal approximation) from the rank sum
    of the first sample: (U of the first sample, p), as scipy.stats.mannwhitneyu."""
    r1 = np.float64(r1)
    u1 = r1 - n1 * (n1 + 1) / 2
    u2 = n1 * n2 - u1
    u = np.maximum(u1, u2)
    mu = n1 * n2 / 2
    n = n1 + n2
    s = np.sqrt(n1 * n2 / 12 * ((n + 1) - np.float64(tie_term) / (n * (n - 1))))
    numerator = u - mu
    numerator -= 0.5
    with np.errstate(divide="ignore", invalid="ignore"):
        z = numerator / s
    from scipy import special  # here: the CLI's items need no scipy

    p = special.ndtr(-z)
    p *= 2
    return float(u1), float(np.clip(p, 0.0, 1.0))


def kruskal(rank_sums: list[float], sizes: list[int], tie_term: float) -> tuple[float, float]:
    """Kruskal-Wallis H (tie-corrected) and its chi-square p from each sample's rank sum and
    size, in the samples' order, as scipy.stats.kruskal."""
    totaln = sum(sizes)
    ties = 1 - np.float64(tie_term) / (totaln**3 - totaln)
    ssbn = sum(np.float64(total) ** 2 / size for total, size in zip(rank_sums, sizes, strict=True))
    h = 12.0 / (totaln * (totaln + 1)) * ssbn - 3 * (totaln + 1)
    h /= ties
    from scipy import special  # here: the CLI's items need no scipy

    return float(h), float(special.chdtrc(np.float64(len(sizes) - 1), h))


def wilcoxon(r_plus: float, r_minus: float, count: int, tie_term: float) -> tuple[float, float]:
    """Two-sided Wilcoxon signed-rank (zero differences dropped, normal approximation without
    continuity correction) from the rank sums of the positive and negative differences
    among the `count` non-zero ones: (the smaller sum, p), as scipy.stats.wilcoxon for
    more than 50 differences."""
    r_plus, count = np.float64(r_plus), np.float64(count)
    mn = count * (count + 1.0) * 0.25
    se = count * (count + 1.0) * (2.0 * count + 1.0)
    se = np.sqrt((se - np.float64(tie_term) / 2) / 24)
    z = (r_plus - mn) / se
    from scipy import special  # here: the CLI's items need no scipy

    p = 2 * special.ndtr(-np.abs(z))
    return float(np.minimum(r_plus, np.float64(r_minus))), float(p)

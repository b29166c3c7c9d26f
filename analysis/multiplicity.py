"""Adjusting p-values for multiple tests: Holm's step-down (family-wise error) and
Benjamini-Hochberg's step-up (false discovery rate).

The family is every p-value given that is not NaN: a NaN (a test that could not be computed)
stays NaN and does not count in the family's size m. Both return, in the input's order,
adjusted p-values capped at 1, equal to statsmodels' `multipletests(p, method="holm")` and
`method="fdr_bh"` on the same family; an adjusted p below alpha is significant at alpha.

Hand-worked example (m = 4), p = .01, .04, .03, .20, sorted .01 .03 .04 .20:
- Holm, (m - rank + 1) p then a running maximum: 4 x .01 = .04, 3 x .03 = .09, 2 x .04 = .08
  -> .09, 1 x .20 = .20; in input order .04, .09, .09, .20.
- BH, m p / rank then a running minimum from the largest: .20 x 4/4 = .20, .04 x 4/3 = .0533,
  .03 x 4/2 = .06 -> .0533, .01 x 4/1 = .04; in input order .04, .0533, .0533, .20.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

METHODS: tuple[str, ...] = ("holm", "bh")


def holm(pvalues: Sequence[float] | np.ndarray) -> np.ndarray:
    """Holm-adjusted p-values: the running maximum of (m - i + 1) p_(i) over the sorted p."""
    return _adjust(pvalues, "holm")


def benjamini_hochberg(pvalues: Sequence[float] | np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg-adjusted p-values: the running minimum, from the largest p down,
    of m p_(i) / i over the sorted p."""
    return _adjust(pvalues, "bh")


def adjust(pvalues: Sequence[float] | np.ndarray, method: str) -> np.ndarray:
    """`holm` or `benjamini_hochberg` by name ("holm" or "bh")."""
    if method not in METHODS:
        raise ValueError(f"method is one of {', '.join(METHODS)}; got {method!r}")
    return _adjust(pvalues, method)


def significant(pvalues: Sequence[float] | np.ndarray, alpha: float = 0.05) -> int:
    """How many of the (raw or adjusted) p-values are below alpha (NaN never is)."""
    p = np.asarray(pvalues, dtype="float64")
    return int(np.count_nonzero(p < alpha))


def _adjust(pvalues: Sequence[float] | np.ndarray, method: str) -> np.ndarray:
    p = np.asarray(pvalues, dtype="float64").reshape(-1)
    out = np.full(p.shape, np.nan)
    kept = ~np.isnan(p)
    family = p[kept]
    if ((family < 0) | (family > 1)).any():
        raise ValueError("p-values lie between 0 and 1")
    m = len(family)
    if m == 0:
        return out
    order = np.argsort(family, kind="stable")
    ranked = family[order]
    rank = np.arange(1, m + 1, dtype="float64")
    if method == "holm":
        adjusted = np.maximum.accumulate((m - rank + 1) * ranked)
    else:
        adjusted = np.minimum.accumulate((m / rank * ranked)[::-1])[::-1]
    back = np.empty(m)
    back[order] = np.minimum(adjusted, 1.0)
    out[kept] = back
    return out

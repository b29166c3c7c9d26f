"""Agreement of the whole panel over a round's items: Krippendorff's alpha and Fleiss' kappa.

Items (each item and dimension of a round) are the units and experts the coders. Missing
answers and "no opinion" (NaN) are allowed: an expert simply did not code that unit.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from analysis.frames import group_keys, validate_long

DEFAULT_BY: tuple[str, ...] = ("round",)
LEVELS: tuple[str, ...] = ("nominal", "ordinal", "interval", "ratio")
AGREEMENT_COLUMNS: tuple[str, ...] = ("krippendorff_alpha", "fleiss_kappa", "n_experts", "n_items")
UNIT: list[str] = ["item", "dimension"]


def panel_agreement(
    frame: pd.DataFrame, *, level: str = "ordinal", by: Sequence[str] = DEFAULT_BY
) -> pd.DataFrame:
    """Return one row per `by` key with Krippendorff's alpha, Fleiss' kappa and the counts used.

    n_experts and n_items count the experts and the units with at least one valid answer.
    """
    if level not in LEVELS:
        raise ValueError(f"level must be one of {', '.join(LEVELS)}; got {level!r}")
    df = validate_long(frame)
    keys = group_keys(df, by)
    rows = []
    for key, part in df.groupby(keys, sort=True):
        # By rows, not index labels: a concatenated frame may repeat labels across rounds.
        answers = part.loc[part["value"].notna()]
        rows.append((*_as_tuple(key), krippendorff_alpha(answers, level=level),
                     fleiss_kappa(answers), answers["expert"].nunique(),
                     answers.groupby(UNIT).ngroups if len(answers) else 0))
    out = pd.DataFrame(rows, columns=[*keys, *AGREEMENT_COLUMNS])
    return out.astype({"krippendorff_alpha": "float64", "fleiss_kappa": "float64",
                       "n_experts": "int64", "n_items": "int64"})


def krippendorff_alpha(answers: pd.DataFrame, *, level: str = "ordinal") -> float:
    """Krippendorff's alpha of valid long-format answers (the `krippendorff` package).

    NaN when fewer than two distinct values were given (no disagreement can be expected) or
    no unit was coded by two experts (nothing to compare: one expert, say).
    """
    import krippendorff  # imported here: only this function needs it

    valid = answers.loc[answers["value"].notna()]
    if valid["value"].nunique() < 2 or not valid.groupby(UNIT).size().ge(2).any():
        return float("nan")
    # The package wants a coders x units matrix with NaN where a coder did not code a unit
    # (filled by position: a pivot table is several times slower on a million answers).
    coders, coder = np.unique(valid["expert"].astype(str).to_numpy(), return_inverse=True)
    unit = valid.groupby(UNIT, sort=True, observed=True).ngroup().to_numpy()
    matrix = np.full((len(coders), int(unit.max()) + 1), np.nan)
    matrix[coder, unit] = valid["value"].to_numpy(dtype="float64")
    return float(krippendorff.alpha(reliability_data=matrix, level_of_measurement=level))


def fleiss_kappa(answers: pd.DataFrame) -> float:
    """Fleiss' kappa (nominal) of valid long-format answers, allowing unequal answers per unit.

    Units with fewer than two answers are left out. P_i = (sum_j n_ij^2 - n_i) / (n_i (n_i - 1))
    is averaged over units, p_j pools every answer; with the same number of answers on every
    unit this is Fleiss (1971) exactly. NaN when every answer falls in one category.
    """
    valid = answers.loc[answers["value"].notna()]
    counts = valid.pivot_table(index=UNIT, columns="value", values="expert", aggfunc="count",
                               fill_value=0)
    return fleiss_kappa_counts(counts.to_numpy(dtype="float64"))


def fleiss_kappa_counts(counts: np.ndarray) -> float:
    """Fleiss' kappa from a units x categories table of answer counts (see fleiss_kappa).

    Counts add up over units, so a round split into chunks of items can be assembled.
    """
    counts = np.asarray(counts, dtype="float64")
    counts = counts[counts.sum(axis=1) >= 2] if counts.ndim == 2 else counts[:0]
    if counts.size == 0:
        return float("nan")
    n_i = counts.sum(axis=1)
    p_unit = ((counts**2).sum(axis=1) - n_i) / (n_i * (n_i - 1.0))
    p_bar = p_unit.mean()
    p_cat = counts.sum(axis=0) / n_i.sum()
    p_e = float((p_cat**2).sum())
    if np.isclose(p_e, 1.0):
        return float("nan")
    return float((p_bar - p_e) / (1.0 - p_e))


def krippendorff_alpha_counts(
    counts: np.ndarray, *, value_domain: Sequence[float], level: str = "ordinal"
) -> float:
    """Krippendorff's alpha from a units x values table of answer counts (the package's
    `value_counts` form; alpha depends on the data only through it). NaN when fewer than two
    distinct values were given, or no unit has two answers (a round one expert submitted)."""
    import krippendorff

    counts = np.asarray(counts, dtype="float64")
    if counts.ndim != 2 or (counts.sum(axis=0) > 0).sum() < 2 or not (counts.sum(axis=1) >= 2).any():
        return float("nan")
    return float(krippendorff.alpha(value_counts=counts, value_domain=list(value_domain),
                                     level_of_measurement=level))


def _as_tuple(key) -> tuple:
    return key if isinstance(key, tuple) else (key,)

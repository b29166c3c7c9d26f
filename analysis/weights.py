"""Survey weights: post-stratification and raking to population margins, with trimming.

The organizer declares margins: per variable (a respondent column such as ``country``, or a
joint one such as ``country:profession``) the population share of each category and where the
shares come from. One variable is post-stratification, several are raking (iterative
proportional fitting); both are done by samplics' ``SampleWeight`` (0.6). Weights are scaled to
mean 1 over the weighted respondents (they sum to n), so a weight of 2 counts a respondent twice.

Trimming (``trim=(low, high)``, in units of that mean) holds each weight that falls outside at
the bound it crossed and rakes the others again to what the held ones leave of each target,
until none is outside (`_trim`). The bounds always hold; the margins hold to
``max_margin_error``, 0 up to rounding unless the bounds and the margins cannot both be met
(then the weights are clipped and a warning says so).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

SHARE_TOLERANCE = 0.001  # each variable's shares must sum to 1 within this
JOINT = ":"  # "country:profession" is the joint variable of the two columns
RAKE_TOLERANCE = 1e-10
RAKE_MAX_ITERATIONS = 1000
TRIM_ROUNDS = 50
MARGIN_COLUMNS: tuple[str, ...] = ("variable", "category", "share")
TRUE_TEXT = frozenset({"true", "1", "yes", "y", "t"})
FALSE_TEXT = frozenset({"false", "0", "no", "n", "f", ""})


def samplics() -> Any:
    """The samplics package, imported on first use (it takes a second: statsmodels, polars),
    without its notice that it is archived (0.6 is the release this module is pinned to)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        import samplics as library
    return library


@dataclass
class Weighting:
    """Respondent weights (indexed by respondent, NaN for those left out) and their diagnostics."""

    weights: pd.Series
    diagnostics: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def validate_margins(margins: pd.DataFrame) -> pd.DataFrame:
    """The margins table checked and normalized: text variable and category, float share, a
    `source` column ("" when not given); each variable's shares rescaled to sum to exactly 1.
    Raises ValueError naming the problem."""
    missing = [c for c in MARGIN_COLUMNS if c not in margins.columns]
    if missing:
        raise ValueError(f"the margins need the column(s) {', '.join(missing)} "
                         "(variable, category, share[, source])")
    out = margins.loc[:, [c for c in (*MARGIN_COLUMNS, "source") if c in margins.columns]].copy()
    if out.empty:
        raise ValueError("the margins file has no rows")
    for column in ("variable", "category", "source"):
        if column not in out.columns:
            out[column] = ""
        out[column] = out[column].fillna("").astype(str).str.strip()
    if out["variable"].eq("").any():
        raise ValueError("a margin row has no variable")
    share = pd.to_numeric(out["share"], errors="coerce")
    bad = share.isna() | (share < 0) | (share > 1)
    if bad.any():
        row = out.loc[bad].iloc[0]
        raise ValueError(f"share of {row['variable']}={row['category']} must be a number from 0 "
                         f"to 1; found {margins.loc[row.name, 'share']!r}")
    out["share"] = share.astype("float64")
    twice = out.duplicated(["variable", "category"])
    if twice.any():
        row = out.loc[twice].iloc[0]
        raise ValueError(f"{row['variable']}={row['category']} is given twice in the margins")
    sums = out.groupby("variable", sort=False)["share"].sum()
    for variable, total in sums.items():
        if abs(total - 1) > SHARE_TOLERANCE:
            raise ValueError(f"the shares of '{variable}' sum to {total:.6g}, not 1 (within "
                             f"{SHARE_TOLERANCE:g})")
    out["share"] = out["share"] / out["variable"].map(sums)
    for variable in sums.index:
        _check_joint_categories(out.loc[out["variable"].eq(variable), "category"], str(variable))
    return out.reset_index(drop=True)


def _check_joint_categories(categories: pd.Series, variable: str) -> None:
    parts = variable.count(JOINT) + 1
    bad = categories[categories.str.count(JOINT) + 1 != parts]
    if parts > 1 and len(bad):
        raise ValueError(f"category {bad.iloc[0]!r} of the joint variable '{variable}' must have "
                         f"{parts} parts separated by '{JOINT}'")


def margin_columns(margins: pd.DataFrame) -> list[str]:
    """The respondent columns the margins' variables name, in order, each once."""
    columns: list[str] = []
    for variable in margins["variable"].unique():
        for column in str(variable).split(JOINT):
            if column not in columns:
                columns.append(column)
    return columns


def respondents(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """One row per respondent (`expert`, sorted) with the given columns of a long frame, as
    text, and `flagged` (False when the frame has no such column). A respondent whose value of
    a column differs between rows, or is missing, is an error naming them."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"the data has no column {', '.join(repr(c) for c in missing)} (the "
                         "margins' variables must be respondent columns of the data)")
    expert = frame["expert"]
    flagged = flagged_column(frame).groupby(expert.astype(str).to_numpy()).max()
    # Distinct (respondent, values) pairs first: the text conversion then runs on a few rows.
    table = frame.loc[:, ["expert", *columns]].drop_duplicates()
    table = pd.DataFrame({"expert": table["expert"].astype(str),
                          **{c: _as_text(table[c]) for c in columns}}).drop_duplicates()
    twice = table["expert"].duplicated(keep=False)
    if twice.any():
        expert = table.loc[twice, "expert"].iloc[0]
        rows = table.loc[table["expert"].eq(expert)]
        column = next(c for c in columns if len(set(rows[c])) > 1)
        values = sorted(str(v) for v in set(rows[column]))
        raise ValueError(f"respondent {expert!r} has several values of '{column}' "
                         f"({', '.join(values)}); a respondent column holds one per respondent")
    out = table.set_index("expert").sort_index().loc[:, list(columns)].assign(flagged=flagged)
    for column in columns:
        empty = out[column].isna() | out[column].eq("")
        if empty.any():
            raise ValueError(f"{int(empty.sum())} respondent(s) have no '{column}' (e.g. "
                             f"{out.index[empty][0]!r}); every weighted respondent needs one")
    return out


def flagged_column(frame: pd.DataFrame) -> pd.Series:
    """The `flagged` column as booleans (true/false, 1/0, yes/no; empty is false), or all
    False when the frame has none."""
    if "flagged" not in frame.columns:
        return pd.Series(False, index=frame.index)
    column = frame["flagged"]
    if pd.api.types.is_bool_dtype(column.dtype):
        return column.fillna(False).astype(bool)
    if pd.api.types.is_numeric_dtype(column.dtype):
        return column.fillna(0).ne(0)
    text = column.fillna("").astype(str).str.strip().str.lower()
    bad = ~text.isin(TRUE_TEXT | FALSE_TEXT)
    if bad.any():
        raise ValueError(f"column 'flagged' must be true or false; found {column[bad].iloc[0]!r}")
    return text.isin(TRUE_TEXT)


def _as_text(column: pd.Series) -> pd.Series:
    """A respondent column as text: whole numbers without a decimal point (a country coded 1
    matches the margins' "1"), missing values as None."""
    if pd.api.types.is_float_dtype(column.dtype):
        whole = column.dropna()
        if (whole == whole.round()).all():
            column = column.astype("Int64")
    text = column.astype(object).where(column.notna(), None)
    return text.map(lambda v: v if v is None else str(v).strip())


def cells(people: pd.DataFrame, variable: str) -> pd.Series:
    """Each respondent's category of a (possibly joint) variable."""
    parts = variable.split(JOINT)
    out = people[parts[0]].astype(str)
    for part in parts[1:]:
        out = out + JOINT + people[part].astype(str)
    return out


def check_categories(people: pd.DataFrame, margins: pd.DataFrame) -> None:
    """Raise ValueError when a margin category has no respondent (it could not get its share)
    or a respondent's category is not in the margins (it has no share to be weighted to)."""
    for variable, part in margins.groupby("variable", sort=False):
        present = set(cells(people, str(variable)))
        wanted = part.loc[part["share"] > 0, "category"]
        absent = [c for c in wanted if c not in present]
        if absent:
            raise ValueError(f"category {', '.join(map(repr, absent))} of '{variable}' in the "
                             "margins has no respondent in the data; merge it with another "
                             "category or leave it out and rescale the shares")
        zero = set(part.loc[part["share"] == 0, "category"])
        unknown = sorted(present - set(wanted))
        if unknown:
            why = "a share of 0" if set(unknown) <= zero else "no share in the margins"
            raise ValueError(f"category {', '.join(map(repr, unknown))} of '{variable}' in the "
                             f"data has {why}: give it a share, or leave its respondents out")


def weigh(people: pd.DataFrame, margins: pd.DataFrame, *,
          trim: tuple[float, float] | None = None, include_flagged: bool = False) -> Weighting:
    """Weights for the respondents of `people` (from `respondents`) to the validated `margins`.

    Flagged respondents are left out (weight NaN) unless `include_flagged`. One variable is
    post-stratified, several are raked; `trim` bounds the weights (see the module doc)."""
    if trim is not None and not 0 < trim[0] <= 1 <= trim[1]:
        raise ValueError(f"trim bounds must satisfy 0 < LOW <= 1 <= HIGH; got {trim[0]:g},{trim[1]:g}")
    kept = people if include_flagged else people.loc[~people["flagged"]]
    if kept.empty:
        raise ValueError("no respondent left to weight (all are flagged; see --include-flagged)")
    check_categories(kept, margins)
    domains, controls = _domains(kept, margins)
    n = len(kept)
    start = np.ones(n)
    w = _adjust(start, domains, controls)
    out = Weighting(weights=pd.Series(np.nan, index=people.index, dtype="float64"))
    trimmed = 0
    if trim is not None:
        w, trimmed = _trim(w, trim, domains, controls)
    out.weights.loc[kept.index] = w
    error = _margin_error(w, domains, controls)
    if error > 1e-6:
        why = ("the trim bounds and the margins cannot both hold: widen --trim" if trimmed else
               f"raking did not converge in {RAKE_MAX_ITERATIONS} rounds: this sample cannot meet "
               "all the margins at once (a combination of categories without respondents?)")
        out.warnings.append(f"the weighted margins miss the targets by up to {error:.3g} (as a "
                            f"share); {why}")
    out.diagnostics = {
        "method": "poststratification" if len(domains) == 1 else "raking",
        "n": n,
        "flagged_excluded": 0 if include_flagged else int(people["flagged"].sum()),
        **weight_diagnostics(w),
        "trim": list(trim) if trim is not None else None,
        "trimmed": trimmed,
        "max_margin_error": error,
        "margins": _margin_report(kept, margins, w),
    }
    return out


def _trim(w: np.ndarray, bounds: tuple[float, float], domains: dict[str, np.ndarray],
          controls: dict[str, dict[int, float]]) -> tuple[np.ndarray, int]:
    """(the weights trimmed to `bounds`, how many were held at a bound).

    A weight outside the bounds is held at the bound it crossed; the others are raked again
    (by samplics) to what the held ones leave of each control total, until none is outside.
    When that is impossible (a category whose respondents are all held, as in a
    post-stratification cell), the weights are clipped and the margins are met only as far as
    the bounds allow."""
    low, high = bounds
    held = np.zeros(len(w), dtype=bool)
    for _ in range(TRIM_ROUNDS):
        outside = ((w < low * (1 - 1e-9)) | (w > high * (1 + 1e-9))) & ~held
        if not outside.any():
            return np.clip(w, low, high), int(held.sum())
        held |= outside
        w = np.where(held, np.clip(w, low, high), w)
        free = ~held
        left: dict[str, dict[int, float]] = {}
        for variable, domain in domains.items():
            left[variable] = {code: total - float(np.sum(w[held & (domain == code)]))
                              for code, total in controls[variable].items()}
            if any(total <= 0 or not np.any(free & (domain == code))
                   for code, total in left[variable].items()):
                clipped = np.clip(w, low, high)
                return clipped, int(np.sum(held | (clipped != w)))
        w = w.copy()
        w[free] = _adjust(np.ones(int(free.sum())),
                          {variable: domain[free] for variable, domain in domains.items()}, left)
    clipped = np.clip(w, low, high)
    return clipped, int(np.sum(held | (clipped != w)))


def weight_diagnostics(w: np.ndarray) -> dict[str, float]:
    """Sum, Kish's design effect and effective sample size, and the range of the weights."""
    deff, n_eff = kish(w)
    low, high = float(np.min(w)), float(np.max(w))
    return {"weight_sum": float(np.sum(w)), "n_eff": n_eff, "deff": deff, "weight_min": low,
            "weight_max": high, "weight_ratio": high / low if low > 0 else math.inf}


def kish(w: np.ndarray) -> tuple[float, float]:
    """Kish's design effect of unequal weights, deff = n Σw² / (Σw)², and the effective sample
    size n / deff = (Σw)² / Σw². (NaN, 0) without weights."""
    w = np.asarray(w, dtype="float64")
    if not len(w) or not np.sum(w) > 0:
        return math.nan, 0.0
    total, squares = float(np.sum(w)), float(np.sum(w * w))
    return len(w) * squares / total**2, total**2 / squares


def _domains(people: pd.DataFrame, margins: pd.DataFrame
             ) -> tuple[dict[str, np.ndarray], dict[str, dict[int, float]]]:
    """Per variable: each respondent's category as an integer code, and the control total
    (share x n) of each code, the form samplics' rake and poststratify take."""
    n = len(people)
    domains, controls = {}, {}
    for variable, part in margins.groupby("variable", sort=False):
        part = part.loc[part["share"] > 0]
        codes = {category: k for k, category in enumerate(part["category"])}
        domains[str(variable)] = cells(people, str(variable)).map(codes).to_numpy(dtype=np.int64)
        controls[str(variable)] = {codes[c]: s * n for c, s in zip(part["category"], part["share"],
                                                                   strict=True)}
    return domains, controls


def _adjust(start: np.ndarray, domains: dict[str, np.ndarray],
            controls: dict[str, dict[int, float]]) -> np.ndarray:
    """samplics' post-stratification (one variable) or raking (several) of `start`."""
    weighting = samplics().SampleWeight()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        if len(domains) == 1:
            [(variable, domain)] = domains.items()
            out = weighting.poststratify(samp_weight=start, control=controls[variable],
                                         domain=domain)
        else:
            out = weighting.rake(samp_weight=start, margins=domains, control=controls,
                                 tol=RAKE_TOLERANCE, ctrl_tol=RAKE_TOLERANCE,
                                 max_iter=RAKE_MAX_ITERATIONS)
    return np.asarray(out, dtype="float64")


def _margin_error(w: np.ndarray, domains: dict[str, np.ndarray],
                  controls: dict[str, dict[int, float]]) -> float:
    """The largest gap between a weighted share and its target share."""
    total = float(np.sum(w))
    n = len(w)
    gaps = [abs(float(np.sum(w[domain == code])) / total - control / n)
            for variable, domain in domains.items()
            for code, control in controls[variable].items()]
    return max(gaps, default=0.0)


def _margin_report(people: pd.DataFrame, margins: pd.DataFrame, w: np.ndarray
                   ) -> dict[str, dict[str, dict[str, Any]]]:
    """Per variable and category: the target share, its source, the sample's share and the
    weighted share."""
    report: dict[str, dict[str, dict[str, Any]]] = {}
    total = float(np.sum(w))
    for variable, part in margins.groupby("variable", sort=False):
        category = cells(people, str(variable)).to_numpy()
        report[str(variable)] = {
            str(row.category): {
                "share": float(row.share),
                "sample_share": float(np.mean(category == row.category)),
                "weighted_share": float(np.sum(w[category == row.category]) / total),
                "source": str(row.source),
            }
            for row in part.itertuples(index=False)
        }
    return report

"""Consensus under several definitions side by side, and under a study's own rule.

A rule is a mapping (or an object with ``as_dict()``) with a ``kind``:

- ``{"kind": "agree_pct", "min": 75}``: % agreement (top boxes) >= min;
- ``{"kind": "iqr", "max": 1}``: IQR <= max;
- ``{"kind": "sd", "max": 1.5}``: sample SD <= max;
- ``{"kind": "tastle_wierman", "min": 0.8}``: Tastle-Wierman consensus >= min;
- ``{"kind": "apmo"}``: % agreement >= the APMO cut-off of the same panel (Kittell-Limerick);
- ``{"kind": "rand_ucla"}``: no RAND/UCLA disagreement (DI <= 1; 9-point scales only);
- ``{"kind": "all", "rules": [...]}`` / ``{"kind": "any", "rules": [...]}``: combinations.

A row with no valid answer never has consensus (False). A rule whose statistic the summary
lacks for a row (RAND/UCLA on a 5-point item) gives NA for that row.

A rule may carry a ``direction``: "agree" (consensus on agreement: the top boxes), "disagree"
(on rejection: the bottom boxes) or "either" (the default). `verdicts` turns a rule into the
three-way verdict every page, report and export shows: "agree", "disagree", "none", or None
(no verdict: the rule does not apply, or nobody gave a valid answer).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from analysis.descriptive import apmo_cutoff, boxes

# The definitions shown beside the study's own rule (von der Gracht 2012 reviews them).
DEFINITIONS: dict[str, dict[str, Any]] = {
    "agree_70": {"kind": "agree_pct", "min": 70},
    "agree_75": {"kind": "agree_pct", "min": 75},
    "agree_80": {"kind": "agree_pct", "min": 80},
    "iqr_1": {"kind": "iqr", "max": 1},
    "tastle_wierman_0.8": {"kind": "tastle_wierman", "min": 0.8},
    "apmo": {"kind": "apmo"},
}

_THRESHOLDS = {"agree_pct": ("pct_agree", "min"), "iqr": ("iqr", "max"), "sd": ("sd", "max"),
               "tastle_wierman": ("tastle_wierman", "min")}
# The summary column each simple rule reads.
_STATISTIC = {kind: column for kind, (column, _) in _THRESHOLDS.items()} | {
    "apmo": "pct_agree", "rand_ucla": "di"}


DIRECTIONS = ("agree", "disagree", "either")
AGREE, DISAGREE, NONE = "agree", "disagree", "none"


def study_rule(*, agree_pct: float, iqr_max: float, direction: str = "either") -> dict[str, Any]:
    """The rule 'agreement >= agree_pct and IQR <= iqr_max' as a rule mapping."""
    return {"kind": "all", "rules": [{"kind": "agree_pct", "min": agree_pct},
                                     {"kind": "iqr", "max": iqr_max}], "direction": direction}


def verdicts(summary: pd.DataFrame, rule: Any, *, apmo: float | None = None) -> pd.Series:
    """Per summary row: "agree", "disagree", "none", or None (no verdict).

    "agree" when the rule is met with % agree (the top boxes) as its agreement and the median
    lies in the top boxes; "disagree" likewise with % disagree and the bottom boxes; only the
    sides the rule's `direction` allows count. The boxes come from the rows' `scale_min` and
    `scale_max` columns (1-5 without them, see analysis.descriptive.boxes). No verdict where
    the rule's statistic is missing (RAND/UCLA on a 5-point item) or n is 0.
    """
    spec = _as_mapping(rule)
    direction = spec.get("direction", "either")
    if direction not in DIRECTIONS:
        raise ValueError(f"a rule's direction is one of {', '.join(DIRECTIONS)} (got {direction!r})")
    top, bottom = _box_columns(summary)
    median = _column(summary, "median")
    out = pd.Series(NONE, index=summary.index, dtype=object)
    applies = pd.Series(False, index=summary.index)
    for side, in_boxes in ((AGREE, median.ge(top)), (DISAGREE, median.le(bottom))):
        sided = summary if side == AGREE else summary.assign(
            pct_agree=_column(summary, "pct_disagree"))
        met = rule_met(sided, spec, apmo=apmo)
        applies |= met.notna().to_numpy()
        if direction in (side, "either"):
            out[(met.fillna(False).astype(bool) & in_boxes).to_numpy()] = side
    answered = summary["n"].gt(0) if "n" in summary.columns else pd.Series(True, summary.index)
    out[(~applies | ~answered).to_numpy()] = None
    return out.rename("verdict")


def item_verdict(dimension_verdicts: list[str | None]) -> str | None:
    """An item's verdict from its dimensions': the one they all share, "none" when they differ,
    None when no dimension has a verdict."""
    given = [v for v in dimension_verdicts if v is not None and not pd.isna(v)]
    if not given:
        return None
    return given[0] if all(v == given[0] for v in given) else NONE


def _box_columns(summary: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    low = _column(summary, "scale_min").fillna(1.0)
    high = _column(summary, "scale_max").fillna(5.0)
    pairs = {pair: boxes(*pair) for pair in set(zip(low, high, strict=True))}
    top = [pairs[pair][0] for pair in zip(low, high, strict=True)]
    bottom = [pairs[pair][1] for pair in zip(low, high, strict=True)]
    return (pd.Series(top, index=summary.index, dtype="float64"),
            pd.Series(bottom, index=summary.index, dtype="float64"))


def rule_met(summary: pd.DataFrame, rule: Any, *, apmo: float | None = None) -> pd.Series:
    """Return, per summary row, whether the rule is met (boolean with NA, see module doc).

    `apmo` is the APMO cut-off to use; without it the cut-off is computed from `summary`,
    which must then hold one panel of one round.
    """
    spec = _as_mapping(rule)
    kind = spec.get("kind")
    answered = summary["n"].gt(0) if "n" in summary.columns else pd.Series(True, summary.index)
    if kind in ("all", "any"):
        parts = [rule_met(summary, part, apmo=apmo) for part in spec.get("rules", [])]
        if not parts:
            raise ValueError(f"a '{kind}' rule needs at least one rule in 'rules'")
        met = parts[0]
        for part in parts[1:]:
            met = (met & part) if kind == "all" else (met | part)
        return met.rename("consensus")
    if kind in _THRESHOLDS:
        column, bound = _THRESHOLDS[kind]
        if bound not in spec:
            raise ValueError(f"a '{kind}' rule needs '{bound}'")
        values = _column(summary, column)
        met = values.ge(spec[bound]) if bound == "min" else values.le(spec[bound])
    elif kind == "apmo":
        cutoff = apmo_cutoff(summary) if apmo is None else apmo
        met = _column(summary, "pct_agree").ge(cutoff)
    elif kind == "rand_ucla":
        met = _column(summary, "di").le(1.0)
    else:
        raise ValueError(f"unknown consensus rule kind {kind!r}")
    # NaN statistics (no valid answer, or a statistic the row lacks) give NA, then False if
    # nobody answered: a panel that said nothing agrees on nothing.
    out = met.astype("boolean").mask(_column(summary, _STATISTIC[kind]).isna())
    return out.mask(~answered, False).rename("consensus")


def consensus_table(
    summary: pd.DataFrame,
    *,
    rule: Any = None,
    definitions: Mapping[str, Any] = DEFINITIONS,
    panel: str = "group",
) -> pd.DataFrame:
    """Return one boolean (with NA) column per definition, plus 'study' for `rule` if given.

    The APMO cut-off is computed separately for each value of the `panel` column (each
    stakeholder group is its own panel), and returned in an 'apmo_cutoff' column.
    """
    out = pd.DataFrame(index=summary.index)
    cutoff = _apmo_cutoffs(summary, panel)
    rules = {"study": rule} if rule is not None else {}
    rules.update(definitions)
    for name, spec in rules.items():
        if _as_mapping(spec).get("kind") == "apmo" or _mentions_apmo(spec):
            out[name] = pd.concat([rule_met(part, spec, apmo=cutoff[key])
                                   for key, part in _panels(summary, panel)]).reindex(summary.index)
        else:
            out[name] = rule_met(summary, spec)
    out["apmo_cutoff"] = _panel_values(summary, panel, cutoff)
    return out


def _apmo_cutoffs(summary: pd.DataFrame, panel: str) -> dict[Any, float]:
    needed = {"n", "pct_agree", "pct_disagree"}
    if not needed <= set(summary.columns):
        return {key: float("nan") for key, _ in _panels(summary, panel)}
    return {key: apmo_cutoff(part.drop(columns=["round"], errors="ignore"))
            for key, part in _panels(summary, panel)}


def _panels(summary: pd.DataFrame, panel: str):
    if panel in summary.columns:
        yield from summary.groupby(panel, sort=True, dropna=False)
    else:
        yield "", summary


def _panel_values(summary: pd.DataFrame, panel: str, values: dict[Any, float]) -> pd.Series:
    if panel in summary.columns:
        return summary[panel].map(values).astype("float64")
    return pd.Series(values.get("", float("nan")), index=summary.index, dtype="float64")


def _mentions_apmo(spec: Any) -> bool:
    spec = _as_mapping(spec)
    return spec.get("kind") == "apmo" or any(_mentions_apmo(r) for r in spec.get("rules", []))


def _column(summary: pd.DataFrame, name: str) -> pd.Series:
    if name in summary.columns:
        return pd.to_numeric(summary[name], errors="coerce").astype("float64")
    return pd.Series(float("nan"), index=summary.index, dtype="float64")


def _as_mapping(rule: Any) -> Mapping[str, Any]:
    if isinstance(rule, Mapping):
        return rule
    if hasattr(rule, "as_dict"):
        return rule.as_dict()
    raise TypeError(f"a consensus rule is a mapping with a 'kind' (got {type(rule).__name__})")

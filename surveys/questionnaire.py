"""Selectors for the expert's questionnaire page: items, saved answers and feedback.

The number of queries does not depend on the number of items: every table is read once.
"""

import random
from collections import defaultdict
from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from surveys.charts import distribution_chart, range_chart
from surveys.models import Aggregate, Answer, Expert, Item, Rationale, Response, Round, Study
from surveys.selectors import live_aggregates, round_items, round_previous

SCALES = {
    "": [_("Strongly disagree"), _("Disagree"), _("Neither agree nor disagree"), _("Agree"),
         _("Strongly agree")],
    "desirability": [_("Very undesirable"), _("Undesirable"), _("Neither"), _("Desirable"),
                     _("Very desirable")],
    "feasibility": [_("Definitely infeasible"), _("Probably infeasible"), _("Uncertain"),
                    _("Probably feasible"), _("Definitely feasible")],
    "importance": [_("Very unimportant"), _("Unimportant"), _("Moderately important"),
                   _("Important"), _("Very important")],
}
DIMENSION_LABELS = {"desirability": _("Desirability"), "feasibility": _("Feasibility"),
                    "importance": _("Importance")}


@dataclass
class Part:
    """One answerable value of an item: the item itself, a dimension or a ranking option."""

    key: str
    label: str
    name: str
    value: float | None
    choices: list[tuple[int, str]] = field(default_factory=list)
    feedback: dict | None = None
    error: str = ""


@dataclass
class ItemView:
    item: Item
    parts: list[Part]
    no_opinion: bool = False
    rationale: str = ""
    text: str = ""
    error: str = ""
    rationales: list[dict] = field(default_factory=list)
    has_feedback: bool = False
    answered: bool = False

    @property
    def field_names(self) -> str:
        """The form fields of this item (and the version), as htmx's hx-params wants them."""
        code = self.item.code
        names = [part.name for part in self.parts] if self.item.kind != Item.Kind.OPEN else []
        return ",".join([*names, f"a-{code}.none", f"a-{code}.why", f"a-{code}.text", "version"])


def value_label(item: Item, key: str, value: float | None) -> str:
    """How a value reads to people: a scale label, a place in a ranking, or the number."""
    if value is None:
        return str(_("no opinion"))
    if item.kind in Item.RATED:
        return f"{SCALES.get(key, SCALES[''])[int(value) - 1]} ({value:g})"
    if item.kind == Item.Kind.PROBABILITY:
        return f"{value:g} %"
    return f"{value:g}"


def _part_label(item: Item, key: str) -> str:
    if item.kind == Item.Kind.DIMENSIONS:
        return str(DIMENSION_LABELS.get(key, key))
    if item.kind == Item.Kind.RANKING:
        return item.option_text(key)
    return ""


def _choices(item: Item, key: str) -> list[tuple[int, str]]:
    if item.kind in Item.RATED:
        return [(k + 1, label) for k, label in enumerate(SCALES.get(key, SCALES[""]))]
    if item.kind == Item.Kind.RANKING:
        return [(k, str(k)) for k in range(1, len(item.options) + 1)]
    return []


def _feedback(item: Item, key: str, agg: Aggregate | None, own: float | None) -> dict | None:
    if agg is None:
        return None
    outside = (own is not None and agg.q1 is not None and not agg.q1 <= own <= agg.q3)
    if item.kind in Item.RATED:
        chart = distribution_chart(agg.distribution, median=agg.median, q1=agg.q1, q3=agg.q3,
                                   own=own)
    else:
        low, high = item.bounds()
        chart = range_chart(low, high, median=agg.median, q1=agg.q1, q3=agg.q3, own=own)
    return {"agg": agg, "own": own, "own_label": value_label(item, key, own) if own is not None
            else "", "outside": outside and item.kind != Item.Kind.RANKING, "chart": chart}


def _previous(expert: Expert, prev: Round | None):
    if prev is None:
        return {}, {}, defaultdict(list)
    aggs = {(a.item_id, a.dimension): a for a in Aggregate.objects.filter(round=prev, group="")}
    own = {(a.item_id, a.dimension): a.value for a in Answer.objects.filter(
        response__round=prev, response__expert=expert)}
    positions = defaultdict(dict)
    for a in Answer.objects.filter(response__round=prev, response__status="submitted",
                                   value__isnull=False).values("response_id", "item_id",
                                                               "dimension", "value"):
        positions[(a["response_id"], a["item_id"])][a["dimension"]] = a["value"]
    rationales = defaultdict(list)
    for r in Rationale.objects.filter(response__round=prev, response__status="submitted"
                                      ).exclude(response__expert=expert).order_by("pk"):
        rationales[r.item_id].append((positions.get((r.response_id, r.item_id), {}), r.text))
    return aggs, own, rationales


def _feedback_source(expert: Expert, round_: Round):
    """Classic: the previous round. Real-Time: the panel's current statistics and arguments,
    with the expert's own saved answer as "yours"."""
    if round_.study.mode != Study.Mode.REALTIME:
        return _previous(expert, round_previous(round_))
    aggs, own, rationales = _previous(expert, round_)
    return live_aggregates(round_.study), own, rationales


def _position(item: Item, values: dict) -> str:
    if not values:
        return str(_("no opinion"))
    if item.kind == Item.Kind.RANKING:
        first = min(values, key=values.get)
        return str(_("ranked first: %(option)s") % {"option": item.option_text(first)})
    return "; ".join(
        (f"{DIMENSION_LABELS[k]}: " if k in DIMENSION_LABELS else "") + value_label(item, k, v)
        for k, v in values.items())


def questionnaire(expert: Expert, round_: Round, *, gated: bool = False) -> list[ItemView]:
    """Every item of the round with the expert's saved answers and the previous round's feedback."""
    items = round_items(round_)
    response = Response.objects.filter(round=round_, expert=expert).first()
    saved = defaultdict(dict)
    no_opinion, texts, whys = set(), {}, {}
    if response is not None:
        for a in response.answers.all():
            saved[a.item_id][a.dimension] = a.value
            no_opinion.update([a.item_id] if a.no_opinion else [])
            texts[a.item_id] = a.text or texts.get(a.item_id, "")
        whys = dict(response.rationales.values_list("item_id", "text"))
    aggs, own, rationales = _feedback_source(expert, round_)
    live = round_.study.mode == Study.Mode.REALTIME
    shuffle = random.Random(f"{expert.pk}-{round_.pk}")  # noqa: S311 - order, not security
    views = []
    for item in items:
        answered = item.pk in saved or item.pk in no_opinion
        parts = []
        for key in item.answer_keys():
            name = f"a-{item.code}.{key}" if key else f"a-{item.code}"
            fb = _feedback(item, key, aggs.get((item.pk, key)), own.get((item.pk, key)))
            if fb is not None:
                fb["live"] = live
            parts.append(Part(key=key, label=_part_label(item, key), name=name,
                              value=saved[item.pk].get(key), choices=_choices(item, key),
                              feedback=fb))
        shown = [{"position": _position(item, pos), "text": text}
                 for pos, text in rationales.get(item.pk, [])]
        shuffle.shuffle(shown)
        view = ItemView(item=item, parts=parts, no_opinion=item.pk in no_opinion,
                        rationale=whys.get(item.pk, ""), text=texts.get(item.pk, ""),
                        rationales=shown, answered=answered)
        view.has_feedback = any(p.feedback for p in parts) and (answered or not gated)
        views.append(view)
    return views


def _group_by_theme(views: list[ItemView], errors: dict, levels: dict) -> list[dict]:
    themes: list[dict] = []
    for view in views:
        if not themes or themes[-1]["theme"] != view.item.theme:
            themes.append({"theme": view.item.theme, "items": [],
                           "expertise": errors.get(f"x-{view.item.theme_id}", ""),
                           "level": levels.get(view.item.theme_id)})
        themes[-1]["items"].append(view)
    return themes


def round_is_open(round_: Round | None) -> bool:
    """Whether answers to the round can still change."""
    return round_ is not None and round_.status == Round.Status.OPEN and (
        round_.closes_at is None or round_.closes_at > timezone.now())


def questionnaire_context(expert: Expert, round_: Round | None, *, errors: dict | None = None) -> dict:
    """Everything the questionnaire page shows: sections, progress, what is left, errors."""
    errors = errors or {}
    response = Response.objects.filter(round=round_, expert=expert).first() if round_ else None
    views = questionnaire(expert, round_, gated=expert.study.answer_before_feedback) if round_ else []
    for view in views:
        view.error = errors.get(view.item.code, "")
        for part in view.parts:
            part.error = errors.get(f"{view.item.code}.{part.key}", "")
    levels = dict(expert.expertise.values_list("theme_id", "level"))
    # Errors no item on the page can show (an unknown item field) go to the top of the form.
    codes = {v.item.code for v in views}
    stray = [m for k, m in errors.items()
             if k != "__all__" and not k.startswith("x-") and k.partition(".")[0] not in codes]
    return {
        "round": round_, "response": response, "is_open": round_is_open(round_),
        "themes": _group_by_theme(views, errors, levels),
        "answered": sum(1 for v in views if v.answered), "total": len(views),
        "unanswered": [v for v in views if not v.answered],
        "form_error": " ".join([str(errors.get("__all__", "")), *map(str, stray)]).strip(),
        "ask_expertise": round_ is not None and round_.number == 1, "views": views,
    }


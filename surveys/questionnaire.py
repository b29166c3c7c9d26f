"""Selectors for the expert's questionnaire page: items, saved answers and feedback.

The number of queries does not depend on the number of items: every table is read once.
"""

import functools
import random
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.utils import timezone
from django.utils.formats import number_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _

from surveys.charts import chart_svg, distribution_chart, range_chart
from surveys.models import Aggregate, AggregationRun, Answer, Expert, Item, Rationale, Response, Round, Study
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
CHECKED = mark_safe(" checked")  # noqa: S308 - a constant
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

    @property
    def radios(self) -> str:
        """The scale's radio buttons (built here: a page has hundreds, and a template loop
        would be most of its rendering time)."""
        return format_html_join("\n", '<label><input type="radio" name="{}" value="{}"{}> '
                                '<span>{}</span></label>', (
                                    (self.name, value, CHECKED if self.value == value else "",
                                     label) for value, label in self.choices))


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
    def rationales_html(self) -> str:
        """The panel's arguments as list items (each one escaped by format_html)."""
        return mark_safe("".join(a["html"] for a in self.rationales))  # noqa: S308

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
        return _scale_choices(key, get_language())
    if item.kind == Item.Kind.RANKING:
        return [(k, str(k)) for k in range(1, len(item.options) + 1)]
    return []


@functools.lru_cache(maxsize=32)
def _scale_choices(key: str, language: str) -> list[tuple[int, str]]:
    """A rating scale's choices in the active language (translated once, not per item)."""
    return [(k + 1, str(label)) for k, label in enumerate(SCALES.get(key, SCALES[""]))]


def _figures(agg) -> dict:
    """What the feedback shows of an aggregate row (a model instance or a cached dict)."""
    if isinstance(agg, dict):
        return agg
    return {"n": agg.n, "median": agg.median, "q1": agg.q1, "q3": agg.q3,
            "pct_agree": agg.pct_agree, "distribution": agg.distribution}


def _feedback(item: Item, key: str, agg: dict | None, own: float | None) -> dict | None:
    if agg is None:
        return None
    q1, q3, median = agg["q1"], agg["q3"], agg["median"]
    outside = own is not None and q1 is not None and not q1 <= own <= q3
    if item.kind in Item.RATED:
        chart = distribution_chart(agg["distribution"], median=median, q1=q1, q3=q3, own=own)
    else:
        low, high = item.bounds()
        chart = range_chart(low, high, median=median, q1=q1, q3=q3, own=own)
    return {"agg": agg, "own": own, "own_label": value_label(item, key, own) if own is not None
            else "", "outside": outside and item.kind != Item.Kind.RANKING, "chart": chart,
            "svg": chart_svg(chart, gettext("Distribution of the previous round"))}


def _number(value: float | None, places: int = 2) -> str:
    """A figure as the floatformat filter shows it with -places: a whole number bare, any other
    with `places` decimals, with the active language's decimal separator."""
    if value is None:
        return ""
    exact = Decimal(repr(value))
    if exact == exact.to_integral_value():
        places = 0
    return number_format(exact.quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP), places)


def _title(item: Item, key: str, agg: dict, live: bool) -> str:
    """The feedback's first line: whose figures, n, median, IQR and % agreement (built here, not
    in the template: a page shows about seventy)."""
    label = f"{item.option_text(key)} · " if item.kind == Item.Kind.RANKING else ""
    whose = gettext("The panel now") if live else gettext("Previous round")
    title = (f"{label}{whose}: n = {agg['n']} · {gettext('median')} {_number(agg['median'])} · "
             f"IQR {_number(agg['q1'])}–{_number(agg['q3'])}")
    if agg.get("pct_agree") is not None:
        title += f" · {_number(agg['pct_agree'], 0)} % {gettext('agree')}"
    return title


def _panel_arguments(round_: Round) -> dict[int, list[dict]]:
    """The submitted rationales of a round per item, each with its author's position on the item
    (in the active language) and the author's id, which only serves to leave out one's own."""
    items = round_.items.in_bulk()
    positions: dict = defaultdict(dict)
    for a in Answer.objects.filter(response__round=round_, response__status="submitted",
                                   value__isnull=False).values("response_id", "item_id",
                                                               "dimension", "value"):
        positions[(a["response_id"], a["item_id"])][a["dimension"]] = a["value"]
    arguments = defaultdict(list)
    for response_id, expert_id, item_id, text in Rationale.objects.filter(
            response__round=round_, response__status="submitted").order_by("pk").values_list(
            "response_id", "response__expert_id", "item_id", "text"):
        position = _position(items[item_id], positions.get((response_id, item_id), {}))
        arguments[item_id].append({
            "author": expert_id, "position": position, "text": text,
            "html": format_html('<li><span class="position">{}</span> {}</li>', position, text)})
    return dict(arguments)


def _panel_feedback_build(round_: Round) -> tuple[dict, dict]:
    aggs = {(a.item_id, a.dimension): _figures(a)
            for a in Aggregate.objects.filter(round=round_, group="")}
    return aggs, _panel_arguments(round_)


@functools.lru_cache(maxsize=16)
def _panel_feedback_of(round_id: int, run_id: int, language: str) -> tuple[dict, dict]:
    return _panel_feedback_build(Round.objects.get(pk=round_id))


def _panel_feedback(round_: Round) -> tuple[dict, dict]:
    """A round's figures (keyed by item id and dimension) and arguments, the same for every
    expert. An aggregated round cannot change any more, so they are kept in this process per
    round, finished aggregation run and language (a re-aggregation is a new run: a new key):
    opening the page then reads no other expert's answers, and nothing is unpickled."""
    run = (round_.aggregation_runs.filter(status=AggregationRun.Status.DONE)
           .order_by("-version").values_list("pk", flat=True).first())
    if round_.status != Round.Status.AGGREGATED or run is None:
        return _panel_feedback_build(round_)
    return _panel_feedback_of(round_.pk, run, get_language())


panel_feedback_forget = _panel_feedback_of.cache_clear


def _own_answers(expert: Expert, round_: Round, item_ids) -> dict:
    return {(a.item_id, a.dimension): a.value for a in Answer.objects.filter(
        response__round=round_, response__expert=expert, item_id__in=item_ids)}


def _feedback_source(expert: Expert, round_: Round, items: dict[int, Item]):
    """Classic: the previous round, with the expert's answer there as "yours". Real-Time: the
    panel's current statistics and arguments, with the expert's own saved answer as "yours"."""
    if round_.study.mode == Study.Mode.REALTIME:
        _aggs, arguments = _panel_feedback(round_)
        live = {k: _figures(a) for k, a in live_aggregates(round_.study).items()}
        return live, _own_answers(expert, round_, items), arguments
    prev = round_previous(round_)
    if prev is None:
        return {}, {}, {}
    aggs, arguments = _panel_feedback(prev)
    return aggs, _own_answers(expert, prev, items), arguments


def _position(item: Item, values: dict) -> str:
    if not values:
        return str(_("no opinion"))
    if item.kind == Item.Kind.RANKING:
        first = min(values, key=values.get)
        return str(_("ranked first: %(option)s") % {"option": item.option_text(first)})
    return "; ".join(
        (f"{DIMENSION_LABELS[k]}: " if k in DIMENSION_LABELS else "") + value_label(item, k, v)
        for k, v in values.items())


@dataclass
class Saved:
    """An expert's saved answers to a round, keyed by item id."""

    values: dict = field(default_factory=lambda: defaultdict(dict))
    no_opinion: set = field(default_factory=set)
    texts: dict = field(default_factory=dict)
    whys: dict = field(default_factory=dict)

    @classmethod
    def read(cls, response: Response | None) -> "Saved":
        saved = cls()
        if response is None:
            return saved
        for item_id, dimension, value, no_opinion, text in response.answers.values_list(
                "item_id", "dimension", "value", "no_opinion", "text"):
            saved.values[item_id][dimension] = value
            if no_opinion:
                saved.no_opinion.add(item_id)
            saved.texts[item_id] = text or saved.texts.get(item_id, "")
        saved.whys = dict(response.rationales.values_list("item_id", "text"))
        return saved

    def answered(self, item: Item) -> bool:
        return item.pk in self.values or item.pk in self.no_opinion


def _item_view(item: Item, saved: Saved, feedback, expert: Expert, round_: Round,
               gated: bool) -> ItemView:
    aggs, own, arguments = feedback
    live = round_.study.mode == Study.Mode.REALTIME
    answered = saved.answered(item)
    parts = []
    for key in item.answer_keys():
        name = f"a-{item.code}.{key}" if key else f"a-{item.code}"
        fb = _feedback(item, key, aggs.get((item.pk, key)), own.get((item.pk, key)))
        if fb is not None:
            fb["live"] = live
            fb["title"] = _title(item, key, fb["agg"], live)
        parts.append(Part(key=key, label=_part_label(item, key), name=name,
                          value=saved.values.get(item.pk, {}).get(key),
                          choices=_choices(item, key), feedback=fb))
    shown = [a for a in arguments.get(item.pk, []) if a["author"] != expert.pk]
    # Each expert reads the arguments in an order of their own, the same on every visit.
    random.Random(f"{expert.pk}-{round_.pk}-{item.pk}").shuffle(shown)  # noqa: S311 - order only
    view = ItemView(item=item, parts=parts, no_opinion=item.pk in saved.no_opinion,
                    rationale=saved.whys.get(item.pk, ""), text=saved.texts.get(item.pk, ""),
                    rationales=shown, answered=answered)
    view.has_feedback = any(p.feedback for p in parts) and (answered or not gated)
    return view


def questionnaire(expert: Expert, round_: Round, *, gated: bool = False,
                  codes: set[str] | None = None) -> list[ItemView]:
    """The round's items (or those with the given codes) with the expert's saved answers and the
    panel's feedback."""
    response = Response.objects.filter(round=round_, expert=expert).first()
    return _views(expert, round_, round_items(round_), Saved.read(response), gated, codes)


def item_view(expert: Expert, round_: Round, code: str) -> ItemView | None:
    """One item of the round as the expert sees it (None if the round has no such item)."""
    views = questionnaire(expert, round_, gated=expert.study.answer_before_feedback, codes={code})
    return views[0] if views else None


def _views(expert, round_, items, saved, gated, codes) -> list[ItemView]:
    wanted = {i.pk: i for i in items if codes is None or i.code in codes}
    feedback = _feedback_source(expert, round_, wanted) if wanted else ({}, {}, {})
    return [_item_view(item, saved, feedback, expert, round_, gated) for item in wanted.values()]


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


def questionnaire_context(expert: Expert, round_: Round | None, *, errors: dict | None = None,
                          codes: set[str] | None = None, response: Response | None = None) -> dict:
    """Everything the questionnaire page shows: sections, progress, what is left, errors.

    With codes (an autosave), only those items are built, with their feedback; the progress
    still counts every item. A response just saved may be passed in to save reading it again.
    """
    errors = errors or {}
    if response is None and round_ is not None:
        response = Response.objects.filter(round=round_, expert=expert).first()
    items = round_items(round_) if round_ else []
    saved = Saved.read(response)
    views = _views(expert, round_, items, saved, expert.study.answer_before_feedback,
                   codes) if round_ else []
    for view in views:
        view.error = errors.get(view.item.code, "")
        for part in view.parts:
            part.error = errors.get(f"{view.item.code}.{part.key}", "")
    # Errors no item on the page can show (an unknown item field) go to the top of the form.
    known = {i.code for i in items}
    stray = [m for k, m in errors.items()
             if k != "__all__" and not k.startswith("x-") and k.partition(".")[0] not in known]
    unanswered = [i for i in items if not saved.answered(i)]
    context = {
        "round": round_, "response": response, "is_open": round_is_open(round_),
        "answered": len(items) - len(unanswered), "total": len(items), "unanswered": unanswered,
        "form_error": " ".join([str(errors.get("__all__", "")), *map(str, stray)]).strip(),
        "ask_expertise": round_ is not None and round_.number == 1, "views": views,
    }
    if codes is None:
        levels = dict(expert.expertise.values_list("theme_id", "level"))
        context["themes"] = _group_by_theme(views, errors, levels)
    return context

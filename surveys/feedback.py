"""The panel's feedback on the questionnaire: figures, titles, charts and arguments.

What is the same for every expert (the previous round's figures, arguments and charts) is kept
in this process, keyed by everything it depends on (the item's version, the previous round's
finished aggregation run, the language): a change or a new aggregation is a new key, never a
stale page. Each expert's own answer is marked in per request.
"""

import functools
import re
from collections import defaultdict
from dataclasses import dataclass, field

from django.utils.html import format_html
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _

from surveys.charts import FeedbackChart, Scale
from surveys.models import (
    Aggregate,
    AggregationRun,
    Answer,
    Expert,
    Item,
    LiveArguments,
    Rationale,
    Round,
    Study,
)
from surveys.selectors import live_aggregates
from surveys.values import (
    DIMENSION_LABELS,
    figure_range,
    figure_text,
    number_text,
    scale_choices,
    value_label,
    whole,
)

CYRILLIC = re.compile("[\u0400-\u04FF]")

def _position(item: Item, values: dict) -> str:
    if not values:
        return str(_("no opinion"))
    if item.kind == Item.Kind.RANKING:
        first = min(values, key=values.get)
        return str(_("ranked first: %(option)s") % {"option": item.option_text(first)})
    return "; ".join(
        (f"{DIMENSION_LABELS[k]}: " if k in DIMENSION_LABELS else "") + value_label(item, k, v)
        for k, v in values.items())


def _figures(agg) -> dict:
    """What the feedback shows of an aggregate row (a model instance or a cached dict)."""
    if isinstance(agg, dict):
        return agg
    return {"n": agg.n, "median": agg.median, "q1": agg.q1, "q3": agg.q3,
            "pct_agree": agg.pct_agree, "distribution": agg.distribution}


@dataclass(frozen=True)
class Figures:
    """What the feedback shows of one aggregate that is the same for every expert: the figures,
    the title, the chart (into which each expert's own answer is marked) and, for screen
    readers, the distribution the chart draws as text."""

    agg: dict
    title: str
    chart: FeedbackChart
    counts: str = ""


def _evenly(low: float, high: float) -> list[float]:
    """Ticks from low to high, evenly spaced: whole steps if 5, 4, 6 or 3 ticks give them."""
    for n in (5, 4, 6, 3):
        step = (high - low) / (n - 1)
        if step > 0 and step == int(step):
            return [low + k * step for k in range(n)]
    return [low + k * (high - low) / 4 for k in range(5)]


def feedback_scale(item: Item, key: str) -> Scale:
    """The scale under an item's feedback chart: its ticks and what it measures."""
    if item.kind in Item.RATED:
        labels = scale_choices(key)
        caption = gettext("Scale: 1 = %(low)s, 5 = %(high)s") % {"low": labels[0][1],
                                                                 "high": labels[-1][1]}
        return Scale(1, 5, tuple((k, str(k)) for k in range(1, 6)), caption)
    low, high = item.bounds() or (0.0, 1.0)
    if item.kind == Item.Kind.RANKING:
        places = range(1, len(item.options) + 1)
        return Scale(low, high, tuple((k, str(k)) for k in places),
                     gettext("Place in the ranking (1 = most preferred)"))
    values = [0, 25, 50, 75, 100] if item.kind == Item.Kind.PROBABILITY else _evenly(low, high)
    if item.kind == Item.Kind.YEAR:  # the last tick is a year, even if it stands for "never"
        ticks = tuple((v, number_text(whole(v), 0)) for v in values)
        caption = gettext("Year")
        if item.never:
            caption = gettext("Year (%(year)s = %(never)s)") % {"year": ticks[-1][1],
                                                               "never": item.never}
        return Scale(low, high, ticks, caption)
    caption = (gettext("Probability, %%").replace("%%", "%") if item.kind == Item.Kind.PROBABILITY
               else item.unit or gettext("Value"))
    return Scale(low, high, tuple((v, figure_text(item, v, unit=False)) for v in values), caption)


def _counts(key: str, distribution: dict) -> str:
    """A 1-5 distribution as a sentence: how many chose each point of the scale."""
    counts = "; ".join(
        f"{value} ({label}): {int(distribution.get(str(value), distribution.get(value, 0)) or 0)}"
        for value, label in scale_choices(key))
    return gettext("Answers per point of the scale: %(counts)s.") % {"counts": counts}


def _figures_build(item: Item, key: str, agg: dict, live: bool) -> Figures:
    rated = item.kind in Item.RATED
    chart = FeedbackChart(feedback_scale(item, key), median=agg["median"], q1=agg["q1"],
                          q3=agg["q3"], distribution=(agg["distribution"] or {}) if rated else None)
    return Figures(agg=agg, title=_title(item, key, agg, live), chart=chart,
                   counts=_counts(key, agg["distribution"] or {}) if rated else "")


def part_feedback(item: Item, key: str, figures: Figures | None, own: float | None,
                  live: bool) -> dict | None:
    if figures is None:
        return None
    agg = figures.agg
    q1, q3 = agg["q1"], agg["q3"]
    outside = own is not None and q1 is not None and not q1 <= own <= q3
    return {"agg": agg, "own": own, "own_label": value_label(item, key, own) if own is not None
            else "", "outside": outside and item.kind != Item.Kind.RANKING, "live": live,
            "title": figures.title, "svg": figures.chart.svg(own),
            "scale": figures.chart.scale_html, "counts": figures.counts}


# The share in the top boxes (4-5) of a rated scale, in its own words.
SHARES = {
    "": _("%(pct)s agree (4-5)"),
    "desirability": _("%(pct)s find it desirable (4-5)"),
    "feasibility": _("%(pct)s find it feasible (4-5)"),
    "importance": _("%(pct)s find it important (4-5)"),
}
MEDIANS = {
    Item.Kind.PROBABILITY: _("median %(median)s likely"),
    Item.Kind.YEAR: _("median year %(median)s"),
    Item.Kind.RANKING: _("median place %(median)s"),
}


def _title(item: Item, key: str, agg: dict, live: bool) -> str:
    """The feedback's first line in the item's own words: whose figures, n, the median, the
    middle half and, on a rating scale, the share in its top boxes (built here, not in the
    template: a page shows about seventy)."""
    label = f"{item.option_text(key)} · " if item.kind == Item.Kind.RANKING else ""
    whose = gettext("The panel now") if live else gettext("Previous round")
    median = MEDIANS.get(item.kind, _("median %(median)s")) % {
        "median": figure_text(item, agg["median"])}
    middle = gettext("middle half %(range)s") % {"range": figure_range(item, agg["q1"], agg["q3"])}
    title = f"{label}{whose}: n = {agg['n']} · {median} · {middle}"
    if item.kind in Item.RATED and agg.get("pct_agree") is not None:
        share = SHARES.get(key, _("%(pct)s rate it high (4-5)"))
        title += " · " + share % {"pct": f"{number_text(agg['pct_agree'], 0)}\u00a0%"}
    return title


def arguments_read(round_: Round) -> dict[int, list[dict]]:
    """The submitted rationales of a round per item id, each with its rationale's id, its
    author's id (which only serves to leave out one's own and to count authors) and values."""
    values: dict = defaultdict(dict)
    for a in Answer.objects.filter(response__round=round_, response__status="submitted",
                                   value__isnull=False).values("response_id", "item_id",
                                                               "dimension", "value"):
        values[(a["response_id"], a["item_id"])][a["dimension"]] = a["value"]
    arguments = defaultdict(list)
    # Read in no particular order: each expert's order is keyed (surveys.unlinkable).
    for pk, response_id, expert_id, item_id, text in Rationale.objects.filter(
            response__round=round_, response__status="submitted").values_list(
            "pk", "response_id", "response__expert_id", "item_id", "text"):
        arguments[item_id].append({"id": pk, "author": expert_id, "text": text,
                                   "values": values.get((response_id, item_id), {})})
    return dict(arguments)


def _with_positions(round_: Round, raw: dict) -> dict[int, list[dict]]:
    """The arguments with their author's position on the item, in the active language."""
    items = round_.items.in_bulk()
    arguments = {}
    for item_id, rows in raw.items():
        item = items.get(int(item_id))
        if item is None:
            continue
        arguments[int(item_id)] = out = []
        for row in rows:
            position = _position(item, row["values"])
            out.append({"id": row["id"], "author": row["author"], "position": position,
                        "text": row["text"], "html": format_html(
                            '<li><span class="position">{}</span> <span lang="{}">{}</span></li>',
                            position, text_language(row["text"]), row["text"])})
    return arguments


def text_language(text: str) -> str:
    """The language an argument is written in, of the platform's two: experts write in their
    own, so a Russian page may show English arguments; screen readers need to know."""
    return "ru" if CYRILLIC.search(text) else "en"


def _panel_arguments(round_: Round) -> dict[int, list[dict]]:
    """The submitted rationales of a round per item, each with its author's position."""
    return _with_positions(round_, arguments_read(round_))


def _panel_feedback_build(round_: Round) -> tuple[dict, dict]:
    aggs = {(a.item_id, a.dimension): _figures(a)
            for a in Aggregate.objects.filter(round=round_, group="")}
    return aggs, _panel_arguments(round_)


@functools.lru_cache(maxsize=16)
def _panel_feedback_of(round_id: int, run_id: int, language: str) -> tuple[dict, dict]:
    return _panel_feedback_build(Round.objects.get(pk=round_id))


def _authors(arguments: dict[int, list[dict]]) -> dict[int, set[int]]:
    """Per item id, the experts who gave an argument (one each at most)."""
    return {item_id: {a["author"] for a in items} for item_id, items in arguments.items()}


@functools.lru_cache(maxsize=16)
def _panel_authors_of(round_id: int, run_id: int, language: str) -> dict[int, set[int]]:
    return _authors(_panel_feedback_of(round_id, run_id, language)[1])


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


class _Memo(dict):
    """A per-process cache whose keys hold every version their values depend on (an entry is
    never stale), emptied when full to bound its size."""

    def __init__(self, size: int):
        super().__init__()
        self.size = size

    def get_or_build(self, key, build):
        value = self.get(key)
        if value is None:
            if len(self) >= self.size:
                self.clear()
            value = self[key] = build()
        return value


# Per (item version, previous round, its aggregation run, language): the item's Figures by key.
_figures_memo = _Memo(4096)


def _item_figures(item: Item, aggs: dict, source: tuple | None, live: bool,
                  language: str) -> dict[str, Figures]:
    """The item's Figures per answer key; kept in this process when `source` (previous round
    and its finished run) says the aggregates can no longer change."""
    def build() -> dict[str, Figures]:
        return {key: _figures_build(item, key, aggs[(item.pk, key)], live)
                for key in item.answer_keys() if (item.pk, key) in aggs}

    if source is None:
        return build()
    return _figures_memo.get_or_build((item.pk, item.updated_at, *source, language), build)


def caches_clear() -> None:
    """Forget the panel's feedback kept in this process."""
    _panel_feedback_of.cache_clear()
    _panel_authors_of.cache_clear()
    _published_arguments_of.cache_clear()
    _figures_memo.clear()


@functools.lru_cache(maxsize=16)
def _published_arguments_of(run_id: int, language: str) -> dict[int, list[dict]]:
    """A live run's published arguments: fixed once the run is done, so kept per run."""
    run = AggregationRun.objects.select_related("round").get(pk=run_id)
    stored = LiveArguments.objects.filter(run=run).values_list("arguments", flat=True).first()
    return _with_positions(run.round, stored or {})


def _published_arguments(rows: dict) -> dict[int, list[dict]]:
    """The arguments published with the figures a Real-Time study shows now: the live run's own
    copy, or (before the live round's first batch) the closed round's, never the rationales as
    they stand this second."""
    run = next((a.run for a in rows.values() if a.run is not None), None)
    if run is None:
        return {}
    if run.kind == AggregationRun.Kind.LIVE:
        return _published_arguments_of(run.pk, get_language())
    return _panel_feedback_of(run.round_id, run.pk, get_language())[1]


@dataclass
class Feedback:
    """The panel's feedback on a round's items: the figures per item id and key, the expert's
    own answers they are shown with, and the arguments and their authors per item id. Items in
    `withheld` had figures or arguments that too few answers stand behind (the study's
    min_cell), left out here."""

    figures: dict = field(default_factory=dict)
    own: dict = field(default_factory=dict)
    arguments: dict = field(default_factory=dict)
    live: bool = False
    authors: dict = field(default_factory=dict)
    withheld: set = field(default_factory=set)
    min_cell: int = 3


def _small_cells_withheld(feedback: Feedback, items: list[Item], min_cell: int,
                          live: bool) -> Feedback:
    """The feedback without any figure, distribution or argument that fewer than `min_cell`
    answers stand behind; the cached dicts are copied, never changed."""
    figures, arguments, authors, withheld = {}, {}, {}, set()
    for item in items:
        item_figures = feedback.figures.get(item.pk, {})
        item_authors = feedback.authors.get(item.pk, set())
        cell = max([f.agg["n"] or 0 for f in item_figures.values()] + [len(item_authors)])
        shown = {k: f for k, f in item_figures.items() if (f.agg["n"] or 0) >= min_cell}
        figures[item.pk] = shown
        if cell >= min_cell:
            arguments[item.pk] = feedback.arguments.get(item.pk, [])
            authors[item.pk] = item_authors
        if len(shown) < len(item_figures) or cell < min_cell and (item_authors or live):
            withheld.add(item.pk)
    return Feedback(figures, feedback.own, arguments, live=feedback.live, authors=authors,
                    withheld=withheld, min_cell=min_cell)


def feedback_source(expert: Expert | None, round_: Round, items: list[Item], saved, rows=None) -> Feedback:
    """Classic: the previous round, with the expert's answer there as "yours". Real-Time: `rows`
    (default: the panel's latest published statistics) and their arguments, with the expert's saved
    answer as "yours" (none without `saved`). Without what fewer than min_cell answers stand behind."""
    min_cell = round_.study.min_cell
    if round_.study.mode == Study.Mode.REALTIME:
        rows = live_aggregates(round_.study) if rows is None else rows
        arguments = _published_arguments(rows)
        live = {k: _figures(a) for k, a in rows.items()}
        figures = {item.pk: _item_figures(item, live, None, True, get_language()) for item in items}
        own = {(item_id, key): value for item_id, values in (saved.values if saved else {}).items()
               for key, value in values.items()}
        return _small_cells_withheld(
            Feedback(figures, own, arguments, live=True, authors=_authors(arguments)),
            items, min_cell, live=True)
    if round_.previous_id is None:
        return Feedback(min_cell=min_cell)
    language = get_language()
    if round_.previous_run is None:  # not aggregated (yet): read, never kept
        aggs, arguments = _panel_feedback_build(Round.objects.get(pk=round_.previous_id))
        source, authors = None, _authors(arguments)
    else:
        source = (round_.previous_id, round_.previous_run)
        aggs, arguments = _panel_feedback_of(*source, language)
        authors = _panel_authors_of(*source, language)
    figures = {item.pk: _item_figures(item, aggs, source, False, language) for item in items}
    return _small_cells_withheld(Feedback(figures, saved.previous if saved else {}, arguments,
                                          authors=authors), items, min_cell, live=False)

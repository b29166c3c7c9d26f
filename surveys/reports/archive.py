"""The feedback archive: what the experts saw in each round, from the stored snapshots.

Built by the questionnaire's own functions (surveys.feedback.feedback_source and part_feedback,
without an expert, so nothing is "yours"), so the archive and the expert's page cannot
disagree. A classic round shows the previous round's snapshot: its panel rows as its latest
finished aggregation run wrote them, and the rationales submitted in it. A Real-Time round
showed figures that changed during the round; the archive keeps the last ones stored for it
(its closing snapshot, or while it is open its latest published live run) with the arguments
published with them. Nothing is recomputed from the answers as they stand now, and no author
is named: the arguments come in alphabetical order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from django.utils.html import escape

from surveys.charts import VIEW_H, VIEW_W
from surveys.feedback import (
    Feedback,
    feedback_scale,
    feedback_source,
    part_feedback,
    text_language,
)
from surveys.models import Aggregate, AggregationRun, Item, Round, Study
from surveys.reports.charts import data_uri
from surveys.selectors import round_items, round_with_keys
from surveys.values import DIMENSION_LABELS


@dataclass
class ArchivePart:
    """One chart of an item's feedback: the figures line as the expert read it, the chart as an
    image, the scale's caption and the distribution as text; or `withheld`."""

    label: str
    title: str = ""
    chart: str = ""
    caption: str = ""
    counts: str = ""
    withheld: bool = False


@dataclass
class ArchiveItem:
    code: str
    text: str
    parts: list[ArchivePart]
    arguments: list[dict]  # each: position (its author's answer), text, lang (its language)
    withheld: bool = False  # withheld, and no chart of it says so


@dataclass
class ArchiveRound:
    """The feedback shown in round `number`, and the snapshot it came from: `source` is None
    when none was stored (yet); `recomputed` when that snapshot was computed again after the
    round opened (the experts saw an earlier version, which is not kept)."""

    number: int
    live: bool
    min_cell: int
    source: dict | None = None
    recomputed: bool = False
    items: list[ArchiveItem] = field(default_factory=list)


def feedback_archive(study: Study, round_: Round) -> list[ArchiveRound]:
    """The feedback of every round up to this one that showed any, in order."""
    rounds = study.rounds.filter(number__lte=round_.number).order_by("number")
    out = []
    for r in rounds:
        r.study = study
        if r.status == Round.Status.DRAFT:  # never opened: nobody saw anything
            continue
        if study.mode == Study.Mode.REALTIME:
            out.append(_realtime_round(r))
        elif r.number > 1:
            out.append(_classic_round(r))
    return out


def _source(run: AggregationRun, number: int) -> dict:
    return {"round": number, "version": run.version, "at": run.finished_at,
            "live": run.kind == AggregationRun.Kind.LIVE}


def _classic_round(round_: Round) -> ArchiveRound:
    """Round k's experts saw round k-1's latest finished snapshot (surveys.feedback)."""
    keyed = round_with_keys(round_)
    entry = ArchiveRound(number=round_.number, live=False, min_cell=round_.study.min_cell)
    run_id = getattr(keyed, "previous_run", None)  # an annotation of round_with_keys
    if run_id is not None:
        run = AggregationRun.objects.get(pk=run_id)
        entry.source = _source(run, round_.number - 1)
        entry.recomputed = _after(run.finished_at, round_.opens_at)
    # Without a snapshot yet, as the questionnaire shows it now (the previous round's arguments).
    items = _rated(round_)
    entry.items = _items(items, feedback_source(None, keyed, items, None), live=False)
    return entry


def _realtime_round(round_: Round) -> ArchiveRound:
    """A Real-Time round's last stored figures and the arguments published with them."""
    rows = {(a.item_id, a.dimension): a for a in
            Aggregate.objects.filter(round=round_, group="").select_related("run")}
    entry = ArchiveRound(number=round_.number, live=True, min_cell=round_.study.min_cell)
    run = next((a.run for a in rows.values() if a.run is not None), None)
    if run is None:
        return entry
    entry.source = _source(run, round_.number)
    items = _rated(round_)
    entry.items = _items(items, feedback_source(None, round_, items, None, rows=rows), live=True)
    return entry


def _after(finished: datetime | None, opened: datetime | None) -> bool:
    return finished is not None and opened is not None and finished > opened


def _rated(round_: Round) -> list[Item]:
    """The round's items that show feedback (every kind but open text), in questionnaire order."""
    return [item for item in round_items(round_)
            if item.kind != Item.Kind.OPEN and item.is_proposition]


def _items(items: list[Item], feedback: Feedback, *, live: bool) -> list[ArchiveItem]:
    """Per item, each chart as the expert's page drew it (or withheld) and its arguments."""
    out = []
    for item in items:
        figures = feedback.figures.get(item.pk, {})
        withheld = item.pk in feedback.withheld
        parts = []
        for key in item.answer_keys():
            shown = part_feedback(item, key, figures.get(key), None, live)
            label = str(DIMENSION_LABELS.get(key, key)) if item.kind == Item.Kind.DIMENSIONS else ""
            if shown is not None:
                parts.append(ArchivePart(label=label, title=shown["title"],
                                         chart=data_uri(chart_document(item, key, shown["svg"])),
                                         caption=feedback_scale(item, key).caption,
                                         counts=shown["counts"]))
            elif withheld:
                parts.append(ArchivePart(label=label, withheld=True))
        arguments = sorted(feedback.arguments.get(item.pk, []), key=lambda a: a["text"])
        if parts or arguments or withheld:
            # Said once: on each withheld chart, else (no chart to say it on) on the item.
            out.append(ArchiveItem(code=item.code, text=item.text, parts=parts,
                                   arguments=[{"position": a["position"], "text": a["text"],
                                               "lang": text_language(a["text"])}
                                              for a in arguments],
                                   withheld=withheld and not any(p.withheld for p in parts)))
    return out


# The chart as an image: the expert's drawing (surveys.charts.FeedbackChart: 100 x 40 units that
# the page stretches to its width) at a fixed size, its coordinates scaled here (renderers
# differ on stretched drawings: WeasyPrint keeps their aspect), with the scale's ticks under it
# as text and the colours site.css gives it on the expert's page, carried inside the image (CSP
# forbids them inline in the report).
WIDTH, CHART_H, TICKS_H = 480, 48, 16
STYLE = (".bar{fill:#6d8fb3}.iqr{fill:#c9dcf2}.median{stroke:#1b1f24;stroke-width:2px}"
         ".axis,.tick{stroke:#4a5360;stroke-width:1px}"
         "text{font-family:'DejaVu Sans',sans-serif;font-size:11px;fill:#4a5360}")
_INNER = re.compile(r"^<svg[^>]*>(.*)</svg>$", re.S)
_COORD = re.compile(r'\b(x|x1|x2|width|y|y1|y2|height)="([-0-9.e]+)"')


def _scaled(drawing: str) -> str:
    """The drawing's shapes with their coordinates scaled from 100 x 40 to the image's size."""
    match = _INNER.match(str(drawing))
    inner = match.group(1) if match else ""

    def scale(m: re.Match) -> str:
        factor = WIDTH / VIEW_W if m.group(1).startswith(("x", "w")) else CHART_H / VIEW_H
        return f'{m.group(1)}="{round(float(m.group(2)) * factor, 2):g}"'

    return _COORD.sub(scale, inner)


def chart_document(item: Item, key: str, drawing: str) -> str:
    """A feedback chart's markup (as part_feedback gives it) as a standalone SVG document."""
    scale = feedback_scale(item, key)
    ticks = "".join(
        f'<text x="{round(scale.x(value) * WIDTH / VIEW_W, 1):g}" y="{CHART_H + TICKS_H - 3}" '
        f'text-anchor="middle">{escape(text)}</text>' for value, text in scale.ticks)
    height = CHART_H + TICKS_H
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
            f'viewBox="0 0 {WIDTH} {height}"><style>{STYLE}</style>{_scaled(drawing)}{ticks}</svg>')

"""Report charts drawn server-side with matplotlib as SVG.

matplotlib's SVG carries a <style> element and style="" attributes, which the pages' CSP
forbids inline; the charts are therefore shown as images (data: URIs in <img>, which CSP's
img-src allows and which render their own styles in isolation), never inlined into the page.

Every chart has one quantity per axis, a legend and axis labels with units, and long series
are cut into chunks (CHUNK items) so that each image fits an A4 page of the PDF.
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Iterator, Sequence

import matplotlib

matplotlib.use("Agg")  # no display; set before pyplot could ever be imported

from matplotlib import rc_context  # noqa: E402
from matplotlib.collections import PolyCollection  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

_RC = {"svg.fonttype": "none", "svg.hashsalt": "agora-delphi", "font.size": 7,
       "axes.titlesize": 7, "axes.labelsize": 7, "xtick.labelsize": 6.5, "ytick.labelsize": 6.5,
       "legend.fontsize": 6.5, "font.family": "DejaVu Sans", "axes.spines.top": False,
       "axes.spines.right": False}
COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf"]
# Five scale points, disagreeing (red) through neutral (grey) to agreeing (blue): ColorBrewer
# RdBu, readable by the common colour-vision deficiencies and in grey print.
SCALE_COLORS = ["#b2182b", "#ef8a62", "#bdbdbd", "#67a9cf", "#2166ac"]
# Rounds, light to dark, each with its own marker shape so that grey print still tells them apart.
ROUND_COLORS = ["#9ecae1", "#4292c6", "#08519c", "#08306b", "#041a3a"]
ROUND_MARKERS = ["o", "s", "D", "^", "v"]
CHUNK = 24  # items per image: one A4 page of the PDF
WIDTH = 7.0  # inches: the A4 page's printable width (182 mm) less a margin


def svg(fig: Figure) -> str:
    """The figure as an SVG document (deterministic: no date, fixed ids)."""
    buffer = io.StringIO()
    with rc_context(_RC):
        fig.savefig(buffer, format="svg", metadata={"Date": None})
    return buffer.getvalue()


def data_uri(document: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(document.encode("utf-8")).decode("ascii")


def chunks(labels: Sequence[str], size: int = CHUNK) -> Iterator[list[str]]:
    """The labels cut into runs of at most `size`, as evenly as possible (70 -> 24, 23, 23)."""
    count = math.ceil(len(labels) / size)
    for k in range(count):
        yield list(labels[len(labels) * k // count: len(labels) * (k + 1) // count])


def _margin(labels: Sequence[str], figure_width: float = WIDTH) -> float:
    """The left margin (a share of the width) that fits the longest tick label at 6.5 pt."""
    longest = max((len(label) for label in labels), default=4)
    return min(0.4, (0.2 + 0.05 * longest) / figure_width)


def _round_style(k: int) -> dict:
    return {"color": ROUND_COLORS[k % len(ROUND_COLORS)],
            "marker": ROUND_MARKERS[k % len(ROUND_MARKERS)]}


def convergence_chart(rows: list[dict], *, labels: dict[str, str], scale_span: float = 4) -> str:
    """A dot plot of each item (a row) by round: its interquartile range on the left axis (scale
    points) and its % agreement on the right axis (0-100 %), each round a marker of its own."""
    items = list(dict.fromkeys(r["label"] for r in rows))
    rounds = sorted({r["round"] for r in rows}) or [1]
    by_key = {(r["label"], r["round"]): r for r in rows}
    offsets = [0.22 * (k - (len(rounds) - 1) / 2) for k in range(len(rounds))]
    with rc_context(_RC):
        height = 1.0 + 0.2 * len(items)
        fig = Figure(figsize=(WIDTH, height))
        left, right = fig.subplots(1, 2, sharey=True)
        fig.subplots_adjust(left=_margin(items), right=0.98, bottom=0.55 / height, top=1 - 0.45 / height,
                            wspace=0.08)
        for ax, field, limit in ((left, "iqr", scale_span), (right, "pct_agree", 100)):
            for y, label in enumerate(items):
                values = [by_key[(label, n)][field] if (label, n) in by_key else None
                          for n in rounds]
                drawn = [(v, y + d) for v, d in zip(values, offsets, strict=True) if v is not None]
                if len(drawn) > 1:
                    ax.plot([v for v, _y in drawn], [y for _v, y in drawn], color="#9e9e9e",
                            linewidth=0.6, zorder=1)
            for k, n in enumerate(rounds):
                points = [(by_key[(label, n)][field], y + offsets[k]) for y, label in enumerate(items)
                          if (label, n) in by_key and by_key[(label, n)][field] is not None]
                ax.scatter([x for x, _y in points], [y for _x, y in points], s=12, zorder=2,
                           linewidths=0, **_round_style(k))
            ax.set_xlim(-limit * 0.03, limit * 1.03)
            ax.grid(axis="x", color="#e0e0e0", linewidth=0.5)
            ax.set_axisbelow(True)
            ax.tick_params(length=2)
        left.set_xlabel(labels["iqr"])
        right.set_xlabel(labels["agree"])
        left.set_yticks(range(len(items)), items)
        left.set_ylim(len(items) - 0.5, -0.5)  # questionnaire order, top to bottom
        right.tick_params(axis="y", left=False)
        fig.legend(handles=[Line2D([], [], linestyle="none", markersize=4,
                                   label=labels["round"] % {"n": n}, **_round_style(k))
                            for k, n in enumerate(rounds)],
                   loc="upper center", ncols=len(rounds), frameon=False, borderaxespad=0.2)
    return svg(fig)


def distribution_chart(rows: list[dict], *, labels: dict[str, str], scale: Sequence[str],
                       columns: int = 2) -> str:
    """Small multiples of each item's answers by round: per round a bar split into the scale
    points' shares of the valid answers (100 %), rounds one under the other."""
    items = list(dict.fromkeys(r["label"] for r in rows))
    rounds = sorted({r["round"] for r in rows}) or [1]
    by_key = {(r["label"], r["round"]): r for r in rows}
    per_column = math.ceil(len(items) / columns) or 1
    slots = len(rounds) + 1  # a blank slot between items
    with rc_context(_RC):
        height = 0.95 + 0.1 * slots * per_column
        fig = Figure(figsize=(WIDTH, height))
        axes = fig.subplots(1, columns, squeeze=False)[0]
        margin = _margin(items) + 0.02
        # The gap between the columns holds the right column's labels: wspace is a share of
        # one axes' width, (0.98 - margin) / (columns + (columns - 1) * wspace).
        fig.subplots_adjust(left=margin, right=0.98, bottom=0.5 / height, top=1 - 0.5 / height,
                            wspace=columns * margin / (0.98 - margin - (columns - 1) * margin))
        for c, ax in enumerate(axes):
            mine = items[c * per_column:(c + 1) * per_column]
            bars, centres = [], []
            for i, label in enumerate(mine):
                ys = [i * slots + k for k in range(len(rounds))]
                centres.append(sum(ys) / len(ys))
                bars += [(y, by_key.get((label, n)), n) for y, n in zip(ys, rounds, strict=True)]
            # One collection per axes and plain texts instead of patches and ticks: the 70
            # items of a study draw in a fraction of the time.
            boxes, colours = [], []
            for y, row, _n in bars:
                start = 0.0
                for point in range(len(scale)):
                    width = _share(row, point + 1)
                    if width:
                        boxes.append([(start, y - 0.4), (start + width, y - 0.4),
                                      (start + width, y + 0.4), (start, y + 0.4)])
                        colours.append(SCALE_COLORS[point])
                    start += width
            ax.add_collection(PolyCollection(boxes, facecolors=colours, linewidths=0),
                              autolim=False)
            side = ax.get_yaxis_transform()  # x in axes fractions, y in data
            for y, _row, n in bars:
                ax.text(-0.01, y, str(n), transform=side, ha="right", va="center", fontsize=5,
                        color="#555")
            for y, label in zip(centres, mine, strict=True):
                ax.text(-0.045, y, label, transform=side, ha="right", va="center")
            ax.set_yticks([])
            ax.set_ylim(per_column * slots - 0.6, -0.6)
            ax.set_xlim(0, 100)
            ax.set_xticks([0, 25, 50, 75, 100])
            ax.set_xlabel(labels["share"])
            ax.spines["left"].set_visible(False)
            ax.tick_params(axis="x", length=2)
        fig.legend(handles=[Patch(color=SCALE_COLORS[k], label=text) for k, text in enumerate(scale)],
                   loc="upper center", ncols=len(scale), frameon=False, borderaxespad=0.2,
                   handlelength=1, columnspacing=1)
    return svg(fig)


def _share(row: dict | None, point: int) -> float:
    """The share (%) of the valid answers at this scale point; 0 without answers."""
    if not row or not row.get("distribution"):
        return 0.0
    counts = {int(float(k)): v for k, v in row["distribution"].items()}
    total = sum(counts.values())
    return 100 * counts.get(point, 0) / total if total else 0.0


def estimate_chart(rows: list[dict], *, labels: dict[str, str], columns: int = 3) -> str:
    """Small multiples of each estimate (probability, year, number): per round its median (a
    marker) and interquartile range (a bar), on the item's own axis and unit."""
    items = list(dict.fromkeys(r["label"] for r in rows))
    rounds = sorted({r["round"] for r in rows}) or [1]
    nrows = math.ceil(len(items) / columns) or 1
    with rc_context(_RC):
        height = 0.5 + 1.05 * nrows
        fig = Figure(figsize=(WIDTH, height))
        axes = fig.subplots(nrows, columns, squeeze=False)
        fig.subplots_adjust(left=0.06, right=0.98, bottom=0.45 / height, top=1 - 0.5 / height,
                            wspace=0.25, hspace=1.1)
        for ax, label in zip(axes.flat, items, strict=False):
            mine = sorted((r for r in rows if r["label"] == label), key=lambda r: r["round"])
            for row in mine:
                k = rounds.index(row["round"])
                if row["q1"] is not None and row["q3"] is not None:
                    ax.plot([row["q1"], row["q3"]], [k, k], color=ROUND_COLORS[k % 5], linewidth=3,
                            solid_capstyle="butt")
                if row["median"] is not None:
                    ax.plot([row["median"]], [k], linestyle="none", markersize=4,
                            markeredgecolor="black", markeredgewidth=0.5, **_round_style(k))
            ax.set_title(label, loc="left", pad=2)
            ax.set_yticks(range(len(rounds)), [str(n) for n in rounds])
            ax.set_ylim(len(rounds) - 0.5, -0.5)
            ax.set_ylabel(labels["rounds"])
            ax.set_xlabel(labels.get(mine[0]["kind"]) or mine[0]["unit"] if mine else "")
            ax.ticklabel_format(axis="x", useOffset=False, style="plain")
            ax.tick_params(length=2)
        for ax in axes.flat[len(items):]:
            ax.set_visible(False)
        fig.legend(handles=[Line2D([], [], color="#4292c6", linewidth=3, label=labels["iqr_bar"]),
                            Line2D([], [], linestyle="none", markersize=4, color="#4292c6",
                                   marker="o", markeredgecolor="black", label=labels["median"])],
                   loc="upper center", ncols=2, frameon=False, borderaxespad=0.2)
    return svg(fig)

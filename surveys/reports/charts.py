"""Report charts drawn server-side with matplotlib as SVG.

matplotlib's SVG carries a <style> element and style="" attributes, which the pages' CSP
forbids inline; the charts are therefore shown as images (data: URIs in <img>, which CSP's
img-src allows and which render their own styles in isolation), never inlined into the page.
"""

from __future__ import annotations

import base64
import io
import math

import matplotlib

matplotlib.use("Agg")  # no display; set before pyplot could ever be imported

from matplotlib import rc_context  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

_RC = {"svg.fonttype": "none", "svg.hashsalt": "agora-delphi", "font.size": 8,
       "axes.titlesize": 8, "font.family": "DejaVu Sans"}
COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf"]


def svg(fig: Figure) -> str:
    """The figure as an SVG document (deterministic: no date, fixed ids)."""
    buffer = io.StringIO()
    with rc_context(_RC):
        fig.savefig(buffer, format="svg", metadata={"Date": None})
    return buffer.getvalue()


def data_uri(document: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(document.encode("utf-8")).decode("ascii")


def convergence_chart(rows: list[dict], *, scale_span: float = 4) -> str:
    """Small multiples of each item by round: IQR (blue, 0 to the scale's span) and % agreement
    (orange, drawn on the same axis with 0-100 % mapped onto that span)."""
    labels = list(dict.fromkeys(r["label"] for r in rows))
    cols = min(6, max(1, len(labels)))
    nrows = math.ceil(len(labels) / cols) or 1
    rounds = sorted({r["round"] for r in rows}) or [1]
    with rc_context(_RC):
        # One shared axis per panel and no automatic layout: drawing 60 panels stays fast.
        fig = Figure(figsize=(1.6 * cols + 0.6, 1.2 * nrows + 0.6))
        axes = fig.subplots(nrows, cols, squeeze=False, sharex=True, sharey=True)
        fig.subplots_adjust(left=0.06, right=0.99, bottom=0.04, top=1 - 0.25 / (1.2 * nrows + 0.6),
                            wspace=0.15, hspace=0.5)
        for ax, label in zip(axes.flat, labels, strict=False):
            part = [r for r in rows if r["label"] == label]
            xs = [r["round"] for r in part]
            ax.plot(xs, [r["iqr"] for r in part], marker="o", markersize=3, color=COLORS[0],
                    linewidth=1.2)
            ax.plot(xs, [None if r["pct_agree"] is None else r["pct_agree"] / 100 * scale_span
                         for r in part], marker="s", markersize=3, color=COLORS[4], linewidth=1.2)
            ax.set_title(label, pad=2)
        axes[0][0].set_ylim(-0.2, scale_span + 0.2)
        axes[0][0].set_xticks(rounds)
        axes[0][0].set_xlim(rounds[0] - 0.3, rounds[-1] + 0.3)
        for ax in axes.flat:
            ax.tick_params(labelsize=6, length=2)
        for ax in axes.flat[len(labels):]:
            ax.set_visible(False)
    return svg(fig)


def dimensions_chart(points: list[dict], *, group_names: dict[str, str], panel_label: str,
                     x_label: str, y_label: str) -> str:
    """A 2-D chart of two Policy-Delphi dimensions: one marker per item, panel and groups."""
    with rc_context(_RC):
        fig = Figure(figsize=(5.5, 4.5))
        ax = fig.subplots()
        groups = list(dict.fromkeys(p["group"] for p in points))
        for k, group in enumerate(groups):
            mine = [p for p in points if p["group"] == group]
            ax.scatter([p["x"] for p in mine], [p["y"] for p in mine], s=60 if not group else 25,
                       marker="o" if not group else "^", color="black" if not group else COLORS[k % 7],
                       label=group_names.get(group, group) if group else panel_label, alpha=0.85)
            if not group:
                for p in mine:
                    ax.annotate(p["item"], (p["x"], p["y"]), xytext=(4, 4), textcoords="offset points")
        ax.set_xlim(0.8, 5.2)
        ax.set_ylim(0.8, 5.2)
        ax.axhline(3, color="grey", linewidth=0.6)
        ax.axvline(3, color="grey", linewidth=0.6)
        ax.set_xlabel(x_label)
        ax.set_ylabel(y_label)
        ax.legend(loc="lower right", fontsize=7)
        fig.tight_layout()
    return svg(fig)

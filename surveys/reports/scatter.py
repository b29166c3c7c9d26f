"""The Policy-Delphi chart: two dimensions' means per item, for the panel and each group.

Each item's panel mean is a black dot carrying the item's label; each stakeholder group's mean
is a marker in the group's colour, tied to its item's dot by a thin line of the same colour, so
every group marker can be read back to its item. Labels are placed by a small deterministic
search (`place_labels`) so that no two of them overlap, whatever the crowding.
"""

from __future__ import annotations

import math

from matplotlib import rc_context
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.transforms import Bbox

from surveys.reports.charts import _RC, COLORS, svg

LABEL_GID = "item-label"  # every item label carries it, so tests can find the labels
_ANGLES = [45, 135, 315, 225, 0, 180, 90, 270, 22, 158, 338, 202, 68, 112, 292, 248]
_PAD = 1.5  # pixels kept free around each label


def dimensions_figure(points: list[dict], *, group_names: dict[str, str], panel_label: str,
                      x_label: str, y_label: str) -> Figure:
    """The chart as a matplotlib figure (its labels already placed)."""
    with rc_context(_RC):
        fig = Figure(figsize=(6.2, 5.4))
        FigureCanvasAgg(fig)
        ax = fig.subplots()
        fig.subplots_adjust(left=0.1, right=0.98, bottom=0.1, top=0.9)
        panel = {p["item"]: p for p in points if not p["group"]}
        groups = list(dict.fromkeys(p["group"] for p in points if p["group"]))
        for k, group in enumerate(groups):
            colour = COLORS[k % len(COLORS)]
            mine = [p for p in points if p["group"] == group]
            for p in mine:
                if p["item"] in panel:
                    centre = panel[p["item"]]
                    ax.plot([centre["x"], p["x"]], [centre["y"], p["y"]], color=colour,
                            linewidth=0.6, alpha=0.7, zorder=1)
            ax.scatter([p["x"] for p in mine], [p["y"] for p in mine], s=16, marker="^",
                       color=colour, label=group_names.get(group, group), zorder=2, linewidths=0)
        ax.scatter([p["x"] for p in panel.values()], [p["y"] for p in panel.values()], s=22,
                   color="black", label=panel_label, zorder=3, linewidths=0)
        ax.set_xlim(*_span([p["x"] for p in points]))
        ax.set_ylim(*_span([p["y"] for p in points]))
        ax.axhline(3, color="#9e9e9e", linewidth=0.5, zorder=0)
        ax.axvline(3, color="#9e9e9e", linewidth=0.5, zorder=0)
        ax.set_xlabel(x_label)
        ax.set_ylabel(y_label)
        fig.legend(loc="upper center", ncols=min(4, len(groups) + 1), frameon=False,
                   borderaxespad=0.3, handletextpad=0.3, columnspacing=1.2)
        place_labels(ax, [(p["item"], p["x"], p["y"]) for p in panel.values()],
                     avoid=[(p["x"], p["y"]) for p in points])
    return fig


def _span(values: list[float]) -> tuple[float, float]:
    """Axis limits around the values, within the scale (1-5), always showing its midpoint 3."""
    low, high = min([*values, 3.0]), max([*values, 3.0])
    return max(0.8, low - 0.3), min(5.2, high + 0.3)


def dimensions_chart(points: list[dict], **kwargs) -> str:
    """The chart as an SVG document."""
    return svg(dimensions_figure(points, **kwargs))


def place_labels(ax, labels: list[tuple[str, float, float]], *,
                 avoid: list[tuple[float, float]]) -> None:
    """Write each (text, x, y) near its point where it overlaps no label placed before it and,
    where possible, no marker: candidates on rings of growing radius around the point, tried in
    a fixed order (so the result is the same on every run); a label set away from its point
    gets a thin leader line."""
    renderer = ax.figure.canvas.get_renderer()
    to_pixels = ax.transData.transform
    frame = ax.get_window_extent(renderer)
    markers = [_box(*to_pixels((x, y)), 6, 6) for x, y in avoid]
    placed: list[Bbox] = []
    for text, x, y in sorted(labels, key=lambda t: (-t[2], t[1], t[0])):
        artist = ax.text(x, y, text, fontsize=6.5, ha="left", va="bottom", zorder=4, gid=LABEL_GID)
        size = artist.get_window_extent(renderer)
        px, py = to_pixels((x, y))
        box, spot = _first_free(px, py, size.width, size.height, placed, markers, frame)
        placed.append(box)
        artist.set_position(ax.transData.inverted().transform((box.x0, box.y0)))
        if math.dist(spot, (px, py)) > 14:
            ax.annotate("", xy=(x, y), xytext=ax.transData.inverted().transform(spot),
                        arrowprops={"arrowstyle": "-", "color": "#555", "linewidth": 0.4}, zorder=1)


def _box(cx: float, cy: float, width: float, height: float) -> Bbox:
    return Bbox.from_bounds(cx - width / 2, cy - height / 2, width, height)


def _first_free(px: float, py: float, width: float, height: float, placed: list[Bbox],
                markers: list[Bbox], frame: Bbox) -> tuple[Bbox, tuple[float, float]]:
    """The first candidate box free of labels (and, in the first pass, of markers), and the
    point of the box nearest the anchor, for the leader line."""
    for avoid_markers in (True, False):
        for radius in range(5, 400, 3):
            for angle in _ANGLES:
                cx = px + radius * math.cos(math.radians(angle))
                cy = py + radius * math.sin(math.radians(angle))
                # The box touches the candidate point with the side that faces the anchor.
                x0 = cx if math.cos(math.radians(angle)) >= -1e-9 else cx - width
                y0 = cy if math.sin(math.radians(angle)) >= -1e-9 else cy - height
                box = Bbox.from_bounds(x0, y0, width, height)
                if not _inside(box, frame) or any(_overlap(box, b) for b in placed):
                    continue
                if avoid_markers and any(_overlap(box, m) for m in markers):
                    continue
                return box, (min(max(px, box.x0), box.x1), min(max(py, box.y0), box.y1))
    raise ValueError("no free place for a label")  # unreachable with a page-sized chart


def _inside(box: Bbox, frame: Bbox) -> bool:
    return (box.x0 >= frame.x0 and box.x1 <= frame.x1 and box.y0 >= frame.y0
            and box.y1 <= frame.y1)


def _overlap(a: Bbox, b: Bbox) -> bool:
    return (a.x0 < b.x1 + _PAD and b.x0 < a.x1 + _PAD and a.y0 < b.y1 + _PAD
            and b.y0 < a.y1 + _PAD)

"""The feedback charts' geometry and SVG markup (no inline styles), and the staff dashboard's
small distribution charts (distribution_chart)."""

from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import mark_safe

WIDTH, HEIGHT, PAD = 200, 60, 4


def distribution_chart(distribution: dict, *, median, q1, q3, own) -> dict:
    """Bars of a 1-5 distribution, with the IQR band, the median and the expert's own answer."""
    counts = [int(distribution.get(str(k), distribution.get(k, 0)) or 0) for k in range(1, 6)]
    top = max(counts) or 1
    step = (WIDTH - 2 * PAD) / 5

    def x_of(value: float) -> float:
        return PAD + (value - 0.5) * step

    bars = []
    for k, count in enumerate(counts, start=1):
        h = (HEIGHT - 16) * count / top
        bars.append({"x": round(x_of(k - 0.4), 1), "y": round(HEIGHT - 12 - h, 1),
                     "w": round(step * 0.8, 1), "h": round(h, 1), "count": count, "value": k,
                     "own": own is not None and round(own) == k})
    chart = {"width": WIDTH, "height": HEIGHT, "bars": bars, "base": HEIGHT - 12}
    if median is not None:
        chart |= {"median_x": round(x_of(median), 1), "q1_x": round(x_of(q1), 1),
                  "iqr_w": round(max(x_of(q3) - x_of(q1), 1.5), 1)}
    return chart


def _n(value) -> str:
    """A coordinate as SVG wants it: never localized (no decimal comma), no trailing zeros."""
    return f"{round(float(value), 2):g}"


# The feedback charts: drawn in a 100 x 40 box stretched to the width of the page (a rule in
# site.css sets their height), so that the scale's numbers can be HTML text at body size under
# the chart: n ticks fill n equal columns, the value of tick k sits at the middle of column k.
VIEW_W, VIEW_H = 100, 40


@dataclass(frozen=True)
class Scale:
    """A feedback chart's scale: from low to high, its ticks (value, text) evenly spaced from
    low to high, and the line that names it ("1 = Strongly disagree · 5 = Strongly agree")."""

    low: float
    high: float
    ticks: tuple[tuple[float, str], ...]
    caption: str

    def x(self, value: float) -> float:
        """Where a value sits across the chart, 0-100."""
        n = len(self.ticks)
        share = (value - self.low) / ((self.high - self.low) or 1)
        return VIEW_W * (0.5 + share * (n - 1)) / n


def _svg(parts: list[str], cls: str = "fb-svg") -> str:
    return (f'<svg class="{cls}" viewBox="0 0 {VIEW_W} {VIEW_H}" preserveAspectRatio="none" '
            f'aria-hidden="true" focusable="false">{"".join(parts)}</svg>')


def _band(scale: Scale, q1, q3, y: float, height: float) -> str:
    x1, x3 = scale.x(q1), scale.x(q3)
    return (f'<rect class="iqr" x="{_n(x1)}" y="{_n(y)}" width="{_n(max(x3 - x1, 0.8))}" '
            f'height="{_n(height)}"></rect>')


def _line(cls: str, x: float, y1: float, y2: float) -> str:
    return f'<line class="{cls}" x1="{_n(x)}" x2="{_n(x)}" y1="{y1}" y2="{y2}"></line>'


class FeedbackChart:
    """A feedback chart built once (it is the same for every expert): `svg(own)` gives it with
    one expert's own answer marked (their bar of a distribution, a line on a range), `scale`
    the HTML of its ticks and caption."""

    def __init__(self, scale: Scale, *, median, q1, q3, distribution: dict | None = None):
        self._scale = scale
        self.scale_html = _scale_html(scale)
        band = median is not None and q1 is not None and q3 is not None
        if distribution is None:
            parts = [f'<line class="axis" x1="0" x2="{VIEW_W}" y1="20" y2="20"></line>']
            parts += [_line("tick", scale.x(value), 15, 25) for value, _text in scale.ticks]
            if band:
                parts.append(_band(scale, q1, q3, 8, 24))
            # The own answer goes under the median, which stays visible where they meet.
            self._range = (parts, [_line("median", scale.x(median), 1, 39)] if band else [])
            self._bars: dict[int, str] = {}
            self._plain = _svg(parts + self._range[1])
            return
        counts = {k: int(distribution.get(str(k), distribution.get(k, 0)) or 0)
                  for k in range(1, 6)}
        top = max(counts.values()) or 1
        width = VIEW_W / len(scale.ticks) * 0.7

        def drawn(own: int | None) -> str:
            out = [_band(scale, q1, q3, 0, VIEW_H)] if band else []
            for k, count in counts.items():
                h = (VIEW_H - 2) * count / top
                out.append(f'<rect class="bar{" own" if k == own else ""}" '
                           f'x="{_n(scale.x(k) - width / 2)}" y="{_n(VIEW_H - h)}" '
                           f'width="{_n(width)}" height="{_n(h)}"></rect>')
            if band:
                out.append(_line("median", scale.x(median), 0, VIEW_H))
            return _svg(out)

        self._plain = drawn(None)
        self._bars = {k: drawn(k) for k in counts}

    def svg(self, own: float | None) -> str:
        if own is None:
            return mark_safe(self._plain)  # noqa: S308 - numbers only
        if self._bars:
            return mark_safe(self._bars.get(round(own), self._plain))  # noqa: S308 - numbers only
        below, median = self._range
        marker = _line("own", self._scale.x(own), 6, 34)
        return mark_safe(_svg([*below, marker, *median]))  # noqa: S308 - numbers only


def _scale_html(scale: Scale) -> str:
    """The ticks' numbers under the chart (screen readers read the figures in the text) and the
    scale's caption."""
    ticks = "".join(f"<span>{escape(text)}</span>" for _value, text in scale.ticks)
    return (f'<div class="fb-ticks" aria-hidden="true">{ticks}</div>'
            f'<p class="fb-axis">{escape(scale.caption)}</p>')


def time_histogram(times: dict) -> str:
    """The completion-time histogram of time_bins' answer: its bars in a 100 x 40 box stretched
    to the page's width, the interquartile range as a band, the median as a line and each
    speeder threshold as a dashed line (the numbers are HTML text beside it)."""
    bins = times["bins"]
    if not bins:
        return ""
    span = len(bins) * times["width"]
    top = max(b["count"] for b in bins) or 1
    step = VIEW_W / len(bins)

    def x(seconds: float) -> float:
        return min(VIEW_W * seconds / span, VIEW_W)

    parts = []
    if times["q1"] is not None:
        parts.append(f'<rect class="iqr" x="{_n(x(times["q1"]))}" y="0" '
                     f'width="{_n(max(x(times["q3"]) - x(times["q1"]), 0.5))}" '
                     f'height="{VIEW_H}"></rect>')
    for k, b in enumerate(bins):
        h = (VIEW_H - 2) * b["count"] / top
        parts.append(f'<rect class="bar" x="{_n(k * step + step * 0.08)}" y="{_n(VIEW_H - h)}" '
                     f'width="{_n(step * 0.84)}" height="{_n(h)}"></rect>')
    if times["median"] is not None:
        parts.append(_line("median", x(times["median"]), 0, VIEW_H))
    parts += [_line("threshold", x(t), 0, VIEW_H) for t in times["thresholds"]]
    return mark_safe(_svg(parts, "fb-svg time-svg"))  # noqa: S308 - numbers only

"""Geometry for the small feedback charts and their SVG markup (no inline styles)."""

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


def _range_x(low: float, high: float, value: float) -> float:
    return round(PAD + (value - low) / ((high - low) or 1) * (WIDTH - 2 * PAD), 1)


def range_chart(low: float, high: float, *, median, q1, q3, own) -> dict:
    """A number line from low to high with the quartile band, the median and the own answer."""

    def x_of(value: float) -> float:
        return _range_x(low, high, value)

    chart = {"width": WIDTH, "height": 40, "line_y": 20, "low": low, "high": high,
             "x0": PAD, "x1": WIDTH - PAD}
    if median is not None:
        chart |= {"median_x": x_of(median), "q1_x": x_of(q1),
                  "iqr_w": max(x_of(q3) - x_of(q1), 1.5)}
    if own is not None:
        chart["own_x"] = x_of(own)
    return chart


def _n(value) -> str:
    """A coordinate as SVG wants it: never localized (no decimal comma), no trailing zeros."""
    return f"{float(value):g}"


def chart_svg(chart: dict, label: str) -> str:
    """The chart as inline SVG markup, built here rather than in a template: a questionnaire
    page draws about seventy of them and template rendering would dominate its time. Only the
    label is text; everything else is a number, formatted by _n."""
    w, h = chart["width"], chart["height"]
    out = [f'<svg class="chart" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" '
           f'aria-label="{escape(label)}">']
    band = chart.get("median_x") is not None
    if "bars" in chart:
        base = chart["base"]
        if band:
            out.append(f'<rect class="iqr" x="{_n(chart["q1_x"])}" y="0" '
                       f'width="{_n(chart["iqr_w"])}" height="{base}"></rect>')
        for b in chart["bars"]:
            x, value = _n(b["x"]), int(b["value"])
            out.append(f'<rect class="bar{" own" if b["own"] else ""}" x="{x}" y="{_n(b["y"])}" '
                       f'width="{_n(b["w"])}" height="{_n(b["h"])}"><title>{value}: '
                       f'{int(b["count"])}</title></rect>'
                       f'<text x="{x}" y="{h}" class="tick">{value}</text>')
        if band:
            m = _n(chart["median_x"])
            out.append(f'<line class="median" x1="{m}" x2="{m}" y1="0" y2="{base}"></line>')
    else:
        y = chart["line_y"]
        out.append(f'<line class="axis" x1="{chart["x0"]}" x2="{chart["x1"]}" y1="{y}" '
                   f'y2="{y}"></line>')
        if band:
            m = _n(chart["median_x"])
            out.append(f'<rect class="iqr" x="{_n(chart["q1_x"])}" y="10" '
                       f'width="{_n(chart["iqr_w"])}" height="20"></rect>'
                       f'<line class="median" x1="{m}" x2="{m}" y1="6" y2="34"></line>')
        if chart.get("own_x") is not None:
            out.append(f'<circle class="own" cx="{_n(chart["own_x"])}" cy="{y}" r="4"></circle>')
    out.append("</svg>")
    return mark_safe("".join(out))  # noqa: S308 - numbers and the escaped label only


OWN_DOT = '<circle class="own" cx="{x}" cy="{y}" r="4"></circle></svg>'


class MarkableChart:
    """A feedback chart's SVG, built once (it is the same for every expert), that `svg(own)`
    gives with one expert's own answer marked: their bar of a distribution, or a dot on the
    range. The markup is chart_svg's for the chart drawn with that own answer."""

    def __init__(self, chart: dict, label: str):
        self._chart = chart
        self._plain = chart_svg(chart, label)
        self._bars = {bar["value"]: chart_svg(chart | {"bars": [
            b | {"own": b is bar} for b in chart["bars"]]}, label) for bar in chart.get("bars", [])}

    def svg(self, own: float | None) -> str:
        if own is None:
            return self._plain
        if "bars" in self._chart:
            return self._bars.get(round(own), self._plain)
        x = _range_x(self._chart["low"], self._chart["high"], own)
        dot = OWN_DOT.format(x=_n(x), y=self._chart["line_y"])
        return mark_safe(self._plain.removesuffix("</svg>") + dot)  # noqa: S308 - numbers only

"""Geometry for the small feedback charts, drawn as SVG in templates (no inline styles)."""

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


def range_chart(low: float, high: float, *, median, q1, q3, own) -> dict:
    """A number line from low to high with the quartile band, the median and the own answer."""
    span = (high - low) or 1

    def x_of(value: float) -> float:
        return round(PAD + (value - low) / span * (WIDTH - 2 * PAD), 1)

    chart = {"width": WIDTH, "height": 40, "line_y": 20, "low": low, "high": high,
             "x0": PAD, "x1": WIDTH - PAD}
    if median is not None:
        chart |= {"median_x": x_of(median), "q1_x": x_of(q1),
                  "iqr_w": max(x_of(q3) - x_of(q1), 1.5)}
    if own is not None:
        chart["own_x"] = x_of(own)
    return chart

"""The completion-time distribution of a survey's completed entries: the histogram's bins,
median and quartiles, overall and per collector, with the speeder thresholds (each
collector's `speeder_seconds`) marked; the Fielding page and the API read these same bins."""

import math
from statistics import median, quantiles

# Bin widths in seconds, the first giving at most MAX_BINS bins up to the cut-off is used.
WIDTHS = (5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 86400)
MAX_BINS = 20
# Beyond this many times the upper quartile, times share one last open bin ("≥ ..."): one
# respondent who left the tab open for a day would otherwise squeeze everyone into one bar.
TAIL = 3


def time_bins(seconds: list[float], *, thresholds: list[int] | None = None) -> dict:
    """n, median, q1, q3 (inclusive quartiles, seconds rounded to 0.1), the speeder thresholds
    and the bins [start, end) of `width` seconds from 0, each with its count, the last one open
    (end None) when the tail was cut; `below_threshold` counts the times under the lowest
    threshold."""
    marks = sorted({int(t) for t in thresholds or [] if t})
    times = sorted(seconds)
    out: dict = {"n": len(times), "median": None, "q1": None, "q3": None, "width": None,
                 "thresholds": marks, "below_threshold": 0, "bins": []}
    if not times:
        return out
    q1, _q2, q3 = quantiles(times, n=4, method="inclusive") if len(times) > 1 else times * 3
    out |= {"median": round(median(times), 1), "q1": round(q1, 1), "q3": round(q3, 1)}
    if marks:
        out["below_threshold"] = sum(1 for t in times if t < marks[0])
    cut = max(min(times[-1], TAIL * q3), marks[-1] if marks else 0)
    width = next((w for w in WIDTHS if cut / w < MAX_BINS), WIDTHS[-1])
    count = math.floor(cut / width) + 1
    tally = [0] * count
    for t in times:
        tally[min(int(t // width), count - 1)] += 1
    open_end = times[-1] >= count * width
    out["width"] = width
    out["bins"] = [{"start": k * width,
                    "end": None if open_end and k == count - 1 else (k + 1) * width,
                    "count": c} for k, c in enumerate(tally)]
    return out


def completion_times(seconds_by_collector: dict[int, list[float]],
                     thresholds_by_collector: dict[int, int]) -> dict:
    """The distribution over all collectors ("overall") and per collector id ("collectors")."""
    every = [t for times in seconds_by_collector.values() for t in times]
    collectors = {pk: time_bins(seconds_by_collector.get(pk, []), thresholds=[t])
                  for pk, t in thresholds_by_collector.items()}
    overall = time_bins(every, thresholds=list(thresholds_by_collector.values()))
    # Each collector's completions are measured against its own threshold.
    overall["below_threshold"] = sum(c["below_threshold"] for c in collectors.values())
    return {"overall": overall, "collectors": collectors}

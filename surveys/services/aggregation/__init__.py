"""Turning answers into snapshots of statistics: rounds, chunked rounds and live Real-Time rounds.

- `runs`: request a version of a round's snapshot, compute it in one task, write it once;
- `chunks`: the same for large rounds, split across workers by items and assembled;
- `live`: the debounced live statistics of a Real-Time study, and its dated snapshots;
- `statistics`: the statistics themselves, from the `analysis` package (no Django).
"""

from surveys.services.aggregation.live import live_recompute, live_schedule, live_snapshot, live_touch
from surveys.services.aggregation.runs import (
    aggregation_request,
    round_aggregate,
    snapshot_write,
)
from surveys.services.aggregation.statistics import item_statistics, panel_statistics

__all__ = [
    "aggregation_request",
    "item_statistics",
    "live_recompute",
    "live_schedule",
    "live_snapshot",
    "live_touch",
    "panel_statistics",
    "round_aggregate",
    "snapshot_write",
]

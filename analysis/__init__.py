"""Delphi statistics on long-format answer frames: plain pandas, numpy and scipy, no Django.

Every function takes a DataFrame in the long format described in `analysis.frames`
(one row per answer: expert, round, item, value, optional dimension and group).

The names below load their module on first use, so `python -m analysis items` does not pay
for importing scipy.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from analysis.descriptive import (
        apmo_cutoff,
        consensus_met,
        estimate_summary,
        rand_ucla,
        rated_summary,
    )
    from analysis.frames import LONG_COLUMNS, read_long, validate_long
    from analysis.groups import group_differences
    from analysis.ranking import kendall_w, mean_ranks, ranking_summary
    from analysis.stability import stability

_HOMES = {
    "apmo_cutoff": "descriptive", "consensus_met": "descriptive",
    "estimate_summary": "descriptive", "rand_ucla": "descriptive",
    "rated_summary": "descriptive", "LONG_COLUMNS": "frames", "read_long": "frames",
    "validate_long": "frames", "group_differences": "groups", "kendall_w": "ranking",
    "mean_ranks": "ranking", "ranking_summary": "ranking", "stability": "stability",
}

__all__ = [
    "LONG_COLUMNS",
    "apmo_cutoff",
    "consensus_met",
    "estimate_summary",
    "group_differences",
    "kendall_w",
    "mean_ranks",
    "rand_ucla",
    "ranking_summary",
    "rated_summary",
    "read_long",
    "stability",
    "validate_long",
]


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'analysis' has no attribute {name!r}")
    return getattr(importlib.import_module(f"analysis.{_HOMES[name]}"), name)

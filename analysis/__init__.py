"""Delphi statistics on long-format answer frames: plain pandas, numpy and scipy, no Django.

Every function takes a DataFrame in the long format described in `analysis.frames`
(one row per answer: expert, round, item, value, optional dimension and group).
"""

from analysis.descriptive import (
    apmo_cutoff,
    consensus_met,
    estimate_summary,
    rand_ucla,
    rated_summary,
)
from analysis.frames import LONG_COLUMNS, read_long, validate_long
from analysis.groups import group_differences
from analysis.multiplicity import benjamini_hochberg, holm
from analysis.ranking import kendall_w, mean_ranks, ranking_summary
from analysis.stability import stability

__all__ = [
    "LONG_COLUMNS",
    "apmo_cutoff",
    "benjamini_hochberg",
    "consensus_met",
    "estimate_summary",
    "group_differences",
    "holm",
    "kendall_w",
    "mean_ranks",
    "rand_ucla",
    "ranking_summary",
    "rated_summary",
    "read_long",
    "stability",
    "validate_long",
]

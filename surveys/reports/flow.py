"""The report's participant flow, per-item results across rounds and the item log (selectors).

The flow's figures are surveys.figures.round_flow (participation, with how the panel changed
since the round before); nothing is counted here.
"""

from __future__ import annotations

from surveys.figures import round_flow
from surveys.models import Round, Study
from surveys.reports.item_log import item_log, item_log_view
from surveys.reports.item_results import item_results, report_rounds

__all__ = ["item_log", "item_log_view", "item_results", "participant_flow"]

# The figures the flow diagram puts in its boxes (keys of round_flow's rows).
_BOXES = ("joined", "withdrawn", "panel", "invited", "started", "submitted", "previous", "lost",
          "lost_withdrawn", "lost_absent", "not_submitted", "absent_again", "absent_new")


def participant_flow(study: Study, round_: Round) -> dict:
    """Rounds 1..N, each with its flow rows (per stakeholder group in `groups`, then the whole
    panel as `panel`); and the round x group table: per group
    (then the panel), its row in every round. `boxes` holds each figure of the flow diagram
    for the panel and per group (`before`: the round before's panel, None in round 1)."""
    rounds: list[dict] = []
    for r in report_rounds(study, round_):
        rows = round_flow(r)
        boxes = {key: _box(rows, key) for key in _BOXES}
        boxes["before"] = rounds[-1]["boxes"]["panel"] if rounds else None
        rounds.append({"round": r, "groups": rows[:-1], "panel": rows[-1], "boxes": boxes})
    groups = [*study.groups.all(), None]
    table = [{"group": g, "cells": [next(row for row in [*entry["groups"], entry["panel"]]
                                         if row["group"] == g) for entry in rounds]}
             for g in groups]
    # The key to the group codes in the diagram's boxes.
    return {"rounds": rounds, "table": table, "groups": groups[:-1]}


def _box(rows: list[dict], key: str) -> dict:
    """One figure of the flow diagram: the whole panel's, and each group's."""
    return {"panel": rows[-1][key], "groups": [{"group": row["group"], "value": row[key]}
                                               for row in rows[:-1]]}

"""The report's participant flow, per-item results across rounds and the item log (selectors)."""

from __future__ import annotations

from surveys.models import Item, Round, Study


def participant_flow(study: Study, round_: Round) -> dict | None:
    return None


def item_results(study: Study, round_: Round, items: dict[str, Item]) -> list[dict]:
    return []


def item_log(study: Study, round_: Round, items: dict[str, Item]) -> list[dict]:
    return []

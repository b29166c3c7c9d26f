"""The study's items in questionnaire order, as every report section lists them."""

from __future__ import annotations

from surveys.models import Item, Study


def study_items(study: Study) -> dict[str, Item]:
    """Code -> item, in questionnaire order (theme, then position); propositions only (no
    attention check)."""
    return {i.code: i for i in study.items.propositions().select_related("theme").order_by(
        "theme__position", "position")}


def positions(items: dict[str, Item]) -> dict[str, int]:
    """Code -> its place in questionnaire order."""
    return {code: k for k, code in enumerate(items)}

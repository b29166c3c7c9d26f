"""The reporting-guideline checklist (ACCORD, DELPHISTAR, CREDES): each item with where the
report answers it, or a note that only the authors can."""

from __future__ import annotations


def checklist(data: dict) -> list[dict]:
    return []

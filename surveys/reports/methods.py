"""The report's registered protocol and its methods section, written from the protocol and the
study's record (selectors)."""

from __future__ import annotations

from surveys.models import Round, Study


def protocol_section(study: Study) -> dict | None:
    return None


def methods_section(study: Study, round_: Round) -> dict | None:
    return None

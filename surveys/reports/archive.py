"""The feedback archive: what the experts saw in each round, from the stored snapshots."""

from __future__ import annotations

from surveys.models import Round, Study


def feedback_archive(study: Study, round_: Round) -> list[dict]:
    return []

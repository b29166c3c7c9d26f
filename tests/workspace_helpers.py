"""Shared helpers of the workspace tests: register rules, answer, close and aggregate rounds."""

import pytest
from django.utils import translation

from surveys.models import Round
from surveys.services.aggregation import round_aggregate
from surveys.services.responses import ItemAnswer, response_submit
from surveys.services.rounds import round_close


def register_rules(study, actor, **values):
    from workspace.services.rules import rule_register

    return rule_register(study=study, actor=actor, **values)


def submit(expert, round_, **values):
    """Submit agreement-style answers: code=value (None = no opinion)."""
    answers = {code: ItemAnswer(no_opinion=True) if v is None else ItemAnswer(values={"": v})
               for code, v in values.items()}
    return response_submit(expert=expert, round_=round_, answers=answers)


def aggregate_pending(study) -> None:
    """Write the snapshot versions requested but not run (tests on `db` never commit, so the
    tasks a rule change enqueues on commit never run): what the worker does."""
    from surveys.services.aggregation import round_aggregate

    for round_ in study.rounds.filter(status=Round.Status.AGGREGATED):
        round_aggregate(round_id=round_.pk)


def close_and_aggregate(round_) -> Round:
    """Close the round and aggregate it here (tests on `db` never commit, so no task runs)."""
    round_close(round_=round_)
    round_aggregate(round_id=round_.pk)
    return Round.objects.get(pk=round_.pk)


def make_experts(study, specs):
    """specs: [(name, group, language)] -> experts with emails name@example.org."""
    from surveys.services.panel import expert_create

    return [expert_create(study=study, name=name, email=f"{name.lower()}@example.org",
                          group_code=group, language=language) for name, group, language in specs]


@pytest.fixture
def english():
    """Service messages in English whatever an earlier test left active in this thread."""
    with translation.override("en"):
        yield

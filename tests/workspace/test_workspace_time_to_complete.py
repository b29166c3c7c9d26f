"""Median time to complete: from the first saved answer to the FIRST submit, worked by hand.

`Response.submitted_at` moves on every revision; the dashboard must not count the time an
expert spent coming back to revise. The services run under a controlled clock.
"""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from surveys.figures import participation, participation_total
from surveys.models import Response
from surveys.services.panel import expert_issue_token
from surveys.services.responses import ItemAnswer, response_save_draft
from tests.workspace_helpers import (
    english,  # noqa: F401 - a fixture
    make_experts,
    submit,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


class Clock:
    """timezone.now() for the services under test: a fixed time moved by hand."""

    def __init__(self, base):
        self.base = self.at = base

    def __call__(self):
        return self.at


@pytest.fixture
def clock(monkeypatch, round1):
    c = Clock(timezone.now().replace(microsecond=0) + timedelta(minutes=1))
    monkeypatch.setattr(timezone, "now", c)
    return c


def at(clock, minute: int) -> None:
    clock.at = clock.base + timedelta(minutes=minute)


@pytest.fixture
def panel3(study):
    experts = make_experts(study, [("P1", "RU", "en"), ("P2", "RU", "en"), ("P3", "US", "en")])
    for expert in experts:
        expert_issue_token(expert=expert)
    return experts


def draft(expert, round_, value):
    return response_save_draft(expert=expert, round_=round_,
                               answers={"agree": ItemAnswer(values={"": value})})


def test_revisions_after_the_first_submit_do_not_lengthen_the_time_to_complete(
        round1, panel3, clock, client, organizer):
    p1, p2, p3 = panel3
    at(clock, 0)
    draft(p1, round1, 3)
    draft(p3, round1, 2)
    at(clock, 5)
    draft(p2, round1, 4)
    at(clock, 10)
    submit(p1, round1, agree=3)       # P1: 0 -> 10 = 10 minutes
    at(clock, 35)
    submit(p2, round1, agree=4)       # P2: 5 -> 35 = 30 minutes
    at(clock, 50)
    submit(p3, round1, agree=2)       # P3: 0 -> 50 = 50 minutes
    # Coming back later: a resubmit and an autosaved change of a submitted response.
    at(clock, 60)
    submit(p3, round1, agree=1)
    at(clock, 100)
    submit(p1, round1, agree=5)
    at(clock, 200)
    draft(p2, round1, 5)

    responses = {r.expert_id: r for r in Response.objects.filter(round=round1)}
    # submitted_at keeps its meaning (the last submit); the revisions keep every step.
    assert responses[p1.pk].submitted_at == clock.base + timedelta(minutes=100)
    assert responses[p3.pk].submitted_at == clock.base + timedelta(minutes=60)
    assert [r.revisions.count() for r in (responses[p1.pk], responses[p2.pk],
                                          responses[p3.pk])] == [2, 2, 2]
    # First submits: 10, 30, 50 -> median 30 (the last submits would give 100, 30, 60 -> 60).
    assert participation_total(round1)["median_minutes"] == 30.0
    rows = {(r["group"].code if r["group"] else "all"): r for r in participation(round1)}
    # Russia: P1 10 and P2 30 -> 20 (not (100 + 30) / 2 = 65); United States: P3 50 (not 60).
    assert [rows[g]["median_minutes"] for g in ("RU", "US", "WE", "all")] == [
        20.0, 50.0, None, 30.0]
    assert [rows[g]["submitted"] for g in ("RU", "US", "all")] == [2, 1, 3]

    client.force_login(organizer)
    live = client.get(reverse("workspace:live", args=[round1.study.slug]), {"round": 1})
    assert live.status_code == 200
    assert '<span id="median-minutes">30.0 minutes</span>' in live.content.decode()


def test_a_response_without_revisions_falls_back_to_its_submit_time(round1, panel3, clock):
    """Responses submitted before revisions were kept have only submitted_at."""
    p1, p2, _p3 = panel3
    at(clock, 0)
    draft(p1, round1, 3)
    draft(p2, round1, 3)
    at(clock, 12)
    submit(p1, round1, agree=3)
    at(clock, 40)
    submit(p2, round1, agree=3)
    Response.objects.get(expert=p2, round=round1).revisions.all().delete()
    # P1 12 (its revision), P2 40 (submitted_at): median 26.
    assert participation_total(round1)["median_minutes"] == 26.0

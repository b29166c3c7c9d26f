"""The synthetic panel: reproducible by seed, leaning by group, converging between rounds."""

import re
import statistics
from io import StringIO
from urllib.parse import urlparse

import pytest
from django.core.management import call_command

from surveys.models import Aggregate, Answer, Round, Study
from surveys.services.rounds import round_close, round_create, round_open
from surveys.services.simulation import panel_simulate
from surveys.services.studies import study_load
from tests.conftest import small_study_data, wait_for

DEMO_SLUG = "trenin-2011-euromd"


def open_round(slug: str) -> Round:
    return round_open(round_=round_create(study=study_load(data=small_study_data(slug))))


def answers_by_expert(round_: Round) -> dict[str, list[tuple]]:
    """Each simulated expert's answers, keyed by their synthetic email, in a fixed order."""
    rows = Answer.objects.filter(response__round=round_).order_by(
        "response__expert__email", "item__code", "dimension").values_list(
        "response__expert__email", "item__code", "dimension", "value", "no_opinion", "text")
    out: dict[str, list[tuple]] = {}
    for email, *rest in rows:
        out.setdefault(email, []).append(tuple(rest))
    return out


def agree_values(round_: Round, group: str | None = None) -> list[float]:
    rows = Answer.objects.filter(response__round=round_, item__code="agree",
                                 value__isnull=False)
    if group:
        rows = rows.filter(response__expert__group__code=group)
    return list(rows.values_list("value", flat=True))


@pytest.mark.django_db
def test_the_same_seed_gives_the_same_panel_answers():
    first, second, other = open_round("sim-a"), open_round("sim-b"), open_round("sim-c")

    assert panel_simulate(round_=first, n=12, seed=7) == 12
    assert panel_simulate(round_=second, n=12, seed=7) == 12
    panel_simulate(round_=other, n=12, seed=8)

    a, b = answers_by_expert(first), answers_by_expert(second)
    assert len(a) == 12 and sum(len(rows) for rows in a.values()) > 12 * 5
    assert a == b
    assert answers_by_expert(other) != a  # the seed matters


@pytest.mark.django_db
def test_simulating_again_adds_no_second_response():
    round_ = open_round("sim-again")
    panel_simulate(round_=round_, n=6, seed=7)
    before = answers_by_expert(round_)

    assert panel_simulate(round_=round_, n=6, seed=99) == 0

    assert answers_by_expert(round_) == before
    assert round_.responses.count() == 6


@pytest.mark.django_db
def test_simulated_experts_save_a_draft_then_submit_through_the_response_services():
    round_ = open_round("sim-path")

    panel_simulate(round_=round_, n=5, seed=2)

    for response in round_.responses.all():
        # version 1 the draft save, version 2 the submit; one revision, kept by the submit
        assert response.status == "submitted" and response.version == 2
        assert round_.opens_at <= response.started_at <= response.submitted_at
        assert response.revisions.count() == 1
    assert round_.study.experts.filter(expertise__isnull=False).distinct().count() == 5


@pytest.mark.django_db
def test_stakeholder_groups_lean_their_own_way():
    round_ = open_round("sim-lean")

    panel_simulate(round_=round_, n=30, seed=3)

    # The study file leans RU to 2 and US to 4.5 on "agree"; ten experts per group.
    ru, us = agree_values(round_, "RU"), agree_values(round_, "US")
    assert len(ru) >= 8 and len(us) >= 8  # a few may have no opinion
    assert statistics.mean(ru) < 3 < statistics.mean(us)
    assert statistics.mean(us) - statistics.mean(ru) > 1.5


@pytest.mark.django_db
def test_round_two_moves_toward_the_round_one_median(django_capture_on_commit_callbacks):
    first = open_round("sim-converge")
    panel_simulate(round_=first, n=30, seed=5)
    with django_capture_on_commit_callbacks(execute=True):
        round_close(round_=first)
    median = Aggregate.objects.get(round=first, item__code="agree", group="").median
    second = round_open(round_=round_create(study=first.study))

    panel_simulate(round_=second, n=30, seed=5)

    def spread(round_):
        return statistics.mean(abs(v - median) for v in agree_values(round_))

    assert spread(second) < spread(first)


@pytest.mark.django_db
def test_simulate_panel_command_answers_the_open_round():
    round_ = open_round("sim-command")
    out = StringIO()

    call_command("simulate_panel", "--study", "sim-command", "--experts", "5", "--seed", "3",
                 stdout=out)

    assert "5 simulated experts submitted round 1." in out.getvalue()
    assert round_.responses.filter(status="submitted").count() == 5


@pytest.mark.django_db(transaction=True)
def test_demo_runs_twice_and_prints_three_working_expert_links(client, celery_worker):
    first_run = StringIO()
    call_command("demo", stdout=first_run)
    study = Study.objects.get(slug=DEMO_SLUG)
    # With a real worker the aggregation is asynchronous; in-process it is already done.
    wait_for(lambda: study.rounds.get(number=1).status == Round.Status.AGGREGATED,
             what="round 1 of the demo to be aggregated")
    out = StringIO()

    call_command("demo", stdout=out)

    assert study.experts.count() == 40
    statuses = dict(study.rounds.values_list("number", "status"))
    assert statuses == {1: Round.Status.AGGREGATED, 2: Round.Status.OPEN}
    assert Aggregate.objects.filter(round__study=study, round__number=1).exists()
    links = re.findall(r"https?://\S+/e/\S+/", out.getvalue())
    assert len(links) == 3
    for link in links:
        client.cookies.clear()
        response = client.get(urlparse(link).path)
        assert response.status_code == 302, link
        assert response["Location"] == "/q/"
        assert client.get("/q/").status_code == 200
    old_link = re.findall(r"https?://\S+/e/\S+/", first_run.getvalue())[0]
    # A link printed before still opens: new links never replace those an expert holds.
    assert client.get(urlparse(old_link).path).status_code == 302

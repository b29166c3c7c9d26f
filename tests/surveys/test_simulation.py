"""The synthetic panel: reproducible by seed, leaning by group, revising toward the median at
realistic rates, losing some experts each round, giving each argument once per item and round."""

import re
import statistics
from collections import Counter
from io import StringIO
from pathlib import Path
from urllib.parse import urlparse

import pytest
from django.core.management import call_command
from scipy.stats import kruskal

from surveys.models import Aggregate, Answer, Item, Rationale, Response, Round, Study
from surveys.services.aggregation.runs import round_aggregate
from surveys.services.rounds import round_close, round_create, round_open
from surveys.services.simulation import GENERIC, panel_simulate
from surveys.services.studies import study_file_read, study_load
from tests.conftest import ROOT, small_study_data, wait_for
from workspace.services.demo import STUDY_FILE as DEMO_FILE

DEMO_SLUG = study_file_read(DEMO_FILE)["slug"]  # whichever edition the demo runs
STUDY_FILE = ROOT / "surveys" / "studies" / "euromd_2026.yaml"
FIRST_EDITION = ROOT / "surveys" / "studies" / "trenin_2011.yaml"
PER_GROUP = 16  # experts per stakeholder group in the Kruskal-Wallis checks


def open_round(slug: str, data: dict | None = None) -> Round:
    data = data or small_study_data(slug)
    return round_open(round_=round_create(study=study_load(data=data)))


def next_round(round_: Round) -> Round:
    """Close the round, aggregate it (the on-commit task does not run in a test transaction),
    and open the next one."""
    round_close(round_=round_)
    round_aggregate(round_id=round_.pk)
    return round_open(round_=round_create(study=round_.study))


def argued_study_data(slug: str) -> dict:
    """The small study with a divergent and a control agreement item, both with arguments
    whose English and Russian are told apart by a prefix."""
    data = small_study_data(slug)

    def bank(side):
        return [{"en": f"EN {side} {k}", "ru": f"RU {side} {k}"} for k in range(3)]

    text = {"en": "English text", "ru": "Русский текст"}
    arguments = {"low": bank("low"), "high": bank("high")}
    data["themes"][0]["items"] += [
        {"code": "divergent", "kind": "agreement", "text": text,
         "leaning": {"RU": 4.4, "US": 1.8, "WE": 2.6}, "spread": {"RU": 0.6, "US": 0.7, "WE": 0.8},
         "arguments": arguments},
        {"code": "control", "kind": "agreement", "text": text,
         "leaning": {"RU": 3.6, "US": 3.4, "WE": 3.5}, "spread": {"RU": 0.8, "US": 0.9, "WE": 0.8},
         "arguments": arguments},
    ]
    return data


def kruskal_by_item(round_: Round) -> dict[tuple[str, str], tuple[float, float]]:
    """Per 1-5 rated item and dimension: the range of the groups' leanings and the
    Kruskal-Wallis p-value of the round's values across the groups."""
    rows = Answer.objects.filter(response__round=round_, value__isnull=False,
                                 item__kind__in=Item.RATED).values_list(
        "item__code", "dimension", "response__expert__group__code", "value")
    values: dict[tuple[str, str], dict[str, list[float]]] = {}
    for code, key, group, value in rows:
        values.setdefault((code, key), {}).setdefault(group, []).append(value)
    out = {}
    for item in round_.study.items.filter(kind__in=Item.RATED):
        for key in item.answer_keys():
            leanings = [lean.get(key) if isinstance(lean, dict) else lean
                        for lean in item.leaning.values()]
            if len(leanings) < 2 or key not in {k for c, k in values if c == item.code}:
                continue
            p = kruskal(*values[(item.code, key)].values()).pvalue
            out[(item.code, key)] = (max(leanings) - min(leanings), p)
    return out


def assert_groups_differ_where_the_leanings_diverge(round_: Round, *, divergent_share: float,
                                                   control_share: float) -> None:
    """Kruskal-Wallis across the groups is significant (p < 0.01) on at least divergent_share of
    the items whose leanings diverge (range >= 1.5) and not significant (p > 0.05) on at least
    control_share of the control items (range <= 0.4). Not on every item: an item where one
    group alone stands apart by 1.5 falls short now and then, and a control item's small real
    differences (up to 0.4) sometimes reach p < 0.05. Measured with 16 experts a group, seeds
    1-3: the second edition 38-39 of 39 divergent and 8 of 8 control items right (seed 1 misses
    threat-1, where only the US group stands apart: p 0.021); the first edition 14-15 of 15
    and 3-5 of 5."""
    results = kruskal_by_item(round_)
    divergent = {k: p for k, (spread, p) in results.items() if spread >= 1.5}
    control = {k: p for k, (spread, p) in results.items() if spread <= 0.4 + 1e-9}
    assert divergent and control
    weak = {k: round(p, 4) for k, p in divergent.items() if p >= 0.01}
    assert len(weak) <= (1 - divergent_share) * len(divergent), weak
    apart = {k: round(p, 4) for k, p in control.items() if p <= 0.05}
    assert len(apart) <= (1 - control_share) * len(control), apart


def changes(first: Round, second: Round) -> tuple[int, int, list[tuple]]:
    """How many of the values an expert gave in both rounds changed, out of how many; and each
    change as (round 1 value, round 2 value, round 1 panel median)."""
    def values(round_):
        return {(e, i, d): v for e, i, d, v in Answer.objects.filter(
            response__round=round_, value__isnull=False).values_list(
            "response__expert_id", "item_id", "dimension", "value")}
    before, after = values(first), values(second)
    medians = {(a.item_id, a.dimension): a.median for a in Aggregate.objects.filter(
        round=first, group="")}
    both = [k for k in after if k in before]
    moved = [(before[k], after[k], medians[k[1:]]) for k in both if before[k] != after[k]]
    return len(moved), len(both), moved


def submitters(round_: Round) -> set[str]:
    return set(round_.responses.filter(status=Response.Status.SUBMITTED).values_list(
        "expert__email", flat=True))


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
    call_command("demo", respondents=100, stdout=first_run)
    study = Study.objects.get(slug=DEMO_SLUG)
    # With a real worker the aggregation is asynchronous; in-process it is already done.
    wait_for(lambda: study.rounds.get(number=1).status == Round.Status.AGGREGATED,
             what="round 1 of the demo to be aggregated")
    out = StringIO()

    call_command("demo", respondents=100, stdout=out)

    assert study.experts.count() == 40
    statuses = dict(study.rounds.values_list("number", "status"))
    assert statuses == {1: Round.Status.AGGREGATED, 2: Round.Status.OPEN}
    assert Aggregate.objects.filter(round__study=study, round__number=1).exists()
    links = re.findall(r"https?://\S+/e/\S+/", out.getvalue())
    assert len(links) == 3
    survey_links = re.findall(r"https?://\S+/s/[\w-]+/$", out.getvalue(), re.MULTILINE)
    assert len(survey_links) == 1  # the essay survey's collector (its round left open)
    for page in ("/studies/euromd-2026-survey/reports/1/", "/studio/euromd-2026-survey/fielding/",
                 "/studio/euromd-2026-survey/collectors/"):
        assert page in out.getvalue()  # the survey's report and organizer pages are printed
    opened = client.get(urlparse(survey_links[0]).path)
    assert opened.status_code == 200 and b"consent" in opened.content.lower()
    client.cookies.clear()
    for link in links:
        client.cookies.clear()
        response = client.get(urlparse(link).path)
        assert response.status_code == 302, link
        assert response["Location"] == "/q/"
        assert client.get("/q/").status_code == 200
    old_link = re.findall(r"https?://\S+/e/\S+/", first_run.getvalue())[0]
    # A link printed before still opens: new links never replace those an expert holds.
    assert client.get(urlparse(old_link).path).status_code == 302


@pytest.mark.django_db
def test_some_experts_leave_each_round_never_to_return_and_the_same_ones_for_a_seed():
    panels = []
    for slug in ("sim-leave-a", "sim-leave-b"):
        round_, rounds = open_round(slug), []
        for number in (1, 2, 3):
            if number > 1:
                round_ = next_round(round_)
            panel_simulate(round_=round_, n=40, seed=4)
            rounds.append(submitters(round_))
        panels.append((rounds, answers_by_expert(round_)))
    first, second, third = panels[0][0]

    assert len(first) == 40
    assert 30 <= len(second) < 40 and third < second  # about 9 % leave per round
    assert panels[1] == panels[0]  # the same experts leave, and answer alike, for the same seed


@pytest.mark.django_db
def test_without_dropout_everyone_who_submitted_comes_back():
    first = open_round("sim-stay")
    panel_simulate(round_=first, n=20, seed=4)
    second = next_round(first)

    assert panel_simulate(round_=second, n=20, seed=4, dropout=0) == 20


@pytest.mark.django_db
def test_round_two_revises_a_realistic_share_of_answers_part_way_toward_the_median():
    first = open_round("sim-revise")
    panel_simulate(round_=first, n=40, seed=9)
    second = next_round(first)
    panel_simulate(round_=second, n=40, seed=9)

    moved, total, moves = changes(first, second)

    assert 0.15 <= moved / total <= 0.5, f"{moved} of {total}"
    # every change moves toward the round 1 median, never past it
    assert all(min(old, median) <= new <= max(old, median) for old, new, median in moves)
    no_opinion = Answer.objects.filter(response__round=second, no_opinion=True).count()
    assert no_opinion / Answer.objects.filter(response__round=second).count() < 0.08


@pytest.mark.django_db
def test_no_argument_is_given_twice_on_one_item_in_a_round():
    argued = open_round("sim-argued", argued_study_data("sim-argued"))
    generic = open_round("sim-generic")  # no arguments in the file: the generic ones
    for round_ in (argued, generic):
        panel_simulate(round_=round_, n=40, seed=5)
    second = next_round(argued)
    panel_simulate(round_=second, n=40, seed=5)

    for round_ in (argued, generic, second):
        texts = Counter(Rationale.objects.filter(response__round=round_).values_list(
            "item__code", "text"))
        texts.update(Answer.objects.filter(response__round=round_).exclude(text="").values_list(
            "item__code", "text"))
        assert texts and max(texts.values()) == 1
    generic_texts = {a["en"] for bank in GENERIC.values() for a in bank}
    generic_texts |= {a["ru"] for bank in GENERIC.values() for a in bank}
    assert set(generic.responses.values_list("rationales__text", flat=True)) - {None} <= generic_texts


@pytest.mark.django_db
def test_rationales_are_in_the_experts_language_and_argue_their_side():
    round_ = open_round("sim-language", argued_study_data("sim-language"))

    panel_simulate(round_=round_, n=60, seed=6)

    rationales = Rationale.objects.filter(
        response__round=round_, item__code__in=["divergent", "control"]).values_list(
        "text", "response__expert__language", "response", "item")
    assert len(rationales) >= 10
    for text, language, response, item in rationales:
        value = Answer.objects.get(response=response, item=item).value
        assert text.startswith(language.upper() + " ")
        assert (" low " in text and value < 3) or (" high " in text and value > 3)


@pytest.mark.django_db
def test_groups_differ_on_a_divergent_item_and_not_on_a_control_item():
    round_ = open_round("sim-kruskal", argued_study_data("sim-kruskal"))

    panel_simulate(round_=round_, n=3 * PER_GROUP, seed=1)

    results = kruskal_by_item(round_)
    assert results[("divergent", "")][1] < 0.01
    assert results[("control", "")][1] > 0.05


@pytest.mark.parametrize(("path", "divergent_share", "control_share"),
                         [(STUDY_FILE, 0.95, 0.85), (FIRST_EDITION, 0.9, 0.6)],
                         ids=["second-edition", "first-edition"])
@pytest.mark.django_db
def test_groups_differ_where_the_study_file_says_they_diverge(path: Path, divergent_share: float,
                                                             control_share: float):
    round_ = round_open(round_=round_create(study=study_load(data=study_file_read(path))))

    panel_simulate(round_=round_, n=5 * PER_GROUP, seed=1)

    assert_groups_differ_where_the_leanings_diverge(round_, divergent_share=divergent_share,
                                                    control_share=control_share)

"""The report's feedback archive: what round 2's experts saw (round 1's snapshot), as their
questionnaire showed it, read from the stored snapshot and never from the answers as they
stand now; the arguments exactly as published, without author; small cells stay withheld."""

import html
import re

import pytest
from django.test import Client

from surveys.feedback import caches_clear
from surveys.models import Aggregate, Answer, Response, Round
from surveys.reports.archive import feedback_archive
from surveys.services.panel import expert_create, expert_issue_token
from surveys.services.responses import ItemAnswer, response_save_draft, response_submit
from surveys.services.rounds import round_close, round_create, round_open
from surveys.services.studies import study_load
from tests.conftest import small_study_data

pytestmark = pytest.mark.django_db

GROUPS = ["RU", "RU", "US", "US", "WE"]
AGREE = [1, 2, 4, 4, 5]
REASONS = ["Too costly.", "Mistrust remains.", "", "Sound logic.", "Ничего не выйдет."]
PROBABILITY = [20, 70, None, None, None]  # two answers: a small cell (min_cell 3)
PROB_REASONS = ["Unlikely soon.", "Likely enough.", "", "", ""]


YEAR = [2030, 2035, 2040, 2100, None]
DIMS = [(5, 1), (4, 2), (4, 2), (5, 1), None]
RANKS = [(1, 2, 3), (1, 3, 2), (2, 1, 3), None, None]


def _answers(k: int) -> dict:
    answers = {"agree": ItemAnswer(values={"": AGREE[k]}, rationale=REASONS[k])}
    if YEAR[k] is not None:
        answers["year"] = ItemAnswer(values={"": YEAR[k]})
    if DIMS[k] is not None:
        answers["dims"] = ItemAnswer(values=dict(zip(("desirability", "feasibility"), DIMS[k],
                                                     strict=True)))
    if RANKS[k] is not None:
        answers["rank"] = ItemAnswer(values=dict(zip("abc", RANKS[k], strict=True)))
    if PROBABILITY[k] is not None:
        answers["prob"] = ItemAnswer(values={"": PROBABILITY[k]}, rationale=PROB_REASONS[k])
    return answers


@pytest.fixture
def two_rounds(django_capture_on_commit_callbacks):
    """Five experts answer round 1 (a sixth only drafts, with an argument never submitted);
    round 1 is closed and aggregated, round 2 is open. Returns round 2 and a reader."""
    study = study_load(data=small_study_data("archive"))
    round1 = round_open(round_=round_create(study=study))
    for k, group in enumerate(GROUPS):
        expert = expert_create(study=study, name=f"Archivist {k}", email=f"a{k}@example.org",
                               group_code=group)
        response_submit(expert=expert, round_=round1, answers=_answers(k))
    drafter = expert_create(study=study, name="Drafter", email="d@example.org", group_code="WE")
    response_save_draft(expert=drafter, round_=round1, answers={
        "agree": ItemAnswer(values={"": 1}, rationale="A draft nobody saw.")})
    with django_capture_on_commit_callbacks(execute=True):
        round_close(round_=round1)
    round2 = round_open(round_=round_create(study=study))
    reader = expert_create(study=study, name="Reader", email="reader@example.org", group_code="US")
    return round2, reader


def _entry(round2):
    [entry] = feedback_archive(round2.study, round2)  # round 1 showed no feedback
    return entry


def _item(entry, code):
    return next(i for i in entry.items if i.code == code)


def test_round_two_shows_round_ones_snapshot_with_its_stored_figures(two_rounds):
    round2, _reader = two_rounds
    entry = _entry(round2)
    round1 = Round.objects.get(study=round2.study, number=1)
    run = round1.aggregation_runs.get(status="done")
    assert (entry.number, entry.live) == (2, False)
    assert entry.source == {"round": 1, "version": run.version, "at": run.finished_at,
                            "live": False}
    assert not entry.recomputed
    # agree: 1 2 4 4 5. Median the 3rd value, 4; quartiles (R type 7) at positions
    # 1 + 4 * .25 = 2 and 1 + 4 * .75 = 4: q1 = 2, q3 = 4; 3 of 5 in 4-5: 60 %.
    stored = Aggregate.objects.get(round=round1, item__code="agree", group="")
    assert (stored.n, stored.median, stored.q1, stored.q3, stored.pct_agree) == (5, 4, 2, 4, 60)
    [part] = _item(entry, "agree").parts
    assert part.title == ("Previous round: n = 5 · median 4 · middle half 2–4 · "
                          "60\u00a0% agree (4-5)")
    assert "1 (Strongly disagree): 1; 2 (Disagree): 1; 3 (Neither agree nor disagree): 0; " \
           "4 (Agree): 2; 5 (Strongly agree): 1" in part.counts
    assert part.chart.startswith("data:image/svg+xml;base64,")


def _page_titles(page: str) -> list[str]:
    return [html.unescape(t) for t in re.findall(r'<p class="fb-title">(.*?)</p>', page)]


def test_the_archive_shows_what_the_round_two_questionnaire_shows(two_rounds):
    round2, reader = two_rounds
    client = Client()
    client.get(f"/e/{expert_issue_token(expert=reader)}/")
    page = client.get("/q/").content.decode()

    archived = [p.title for item in _entry(round2).items for p in item.parts if not p.withheld]
    assert archived and _page_titles(page) == archived
    assert "Previous round: n = 5 · median 4" in archived[0]


def test_answers_changed_after_the_snapshot_do_not_change_the_archive(two_rounds):
    round2, _reader = two_rounds
    before = _entry(round2)
    Answer.objects.filter(response__round__number=1, item__code="agree").update(value=1)
    caches_clear()  # nothing kept in this process may hide a change

    after = _entry(round2)
    assert [p.title for i in after.items for p in i.parts] == \
        [p.title for i in before.items for p in i.parts]
    assert _item(after, "agree").parts[0].title.startswith("Previous round: n = 5 · median 4 ·")


def _texts(item) -> list[str]:
    return [a["text"] for a in item.arguments]


def test_the_arguments_are_exactly_those_submitted_without_their_authors(client, two_rounds):
    from tests.conftest import _staff

    round2, _reader = two_rounds
    agree = _item(_entry(round2), "agree")
    # The four non-empty reasons of submitted responses, in alphabetical order; the draft's
    # argument was never shown to anyone.
    assert _texts(agree) == ["Mistrust remains.", "Sound logic.", "Too costly.", "Ничего не выйдет."]
    # Each with its author's answer, as the expert's page labels it, and its language.
    assert agree.arguments[2] == {"position": "Strongly disagree (1)", "text": "Too costly.",
                                  "lang": "en"}
    assert agree.arguments[3]["lang"] == "ru"
    assert set(agree.arguments[0]) == {"position", "text", "lang"}  # nothing of its author

    client.force_login(_staff(round2.study, "archive-analyst", "analyst"))
    page = client.get(f"/studies/{round2.study.slug}/reports/2/").content.decode()
    section = page[page.index('<section id="archive"'):]
    section = section[:section.index("</section>")]
    assert '<span class="position">Strongly disagree (1)</span> — <span lang="en">Too costly.' \
        in section and '<span lang="ru">Ничего не выйдет.</span>' in section
    assert "A draft nobody saw." not in section
    assert "Archivist" not in section and "@example.org" not in section
    assert not re.search(r"<script|<style|\sstyle=", section)
    assert "<details" in section
    assert section.count('src="data:image/svg+xml;base64,') == sum(
        1 for i in _entry(round2).items for p in i.parts if not p.withheld)


def test_a_small_cell_stays_withheld(two_rounds):
    round2, reader = two_rounds
    prob = _item(_entry(round2), "prob")
    assert [p.withheld for p in prob.parts] == [True] and prob.arguments == []
    assert prob.parts[0].title == "" and prob.parts[0].chart == ""

    # A third answer added to round 1 after its snapshot changes nothing: n stays 2.
    response = Response.objects.get(round__number=1, expert__name="Archivist 2")
    Answer.objects.create(response=response, item=round2.items.get(code="prob"), value=50)
    caches_clear()
    again = _item(_entry(round2), "prob")
    assert [p.withheld for p in again.parts] == [True] and again.arguments == []


def test_a_realtime_round_shows_the_figures_and_arguments_last_published(
        django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    study = study_load(data=small_study_data("archive-live") | {"mode": "realtime"})
    live = round_open(round_=round_create(study=study))
    experts = [expert_create(study=study, name=f"Live {k}", email=f"l{k}@example.org",
                             group_code=GROUPS[k]) for k in range(4)]
    for k, value in enumerate([2, 4, 5]):
        with capture(execute=True):
            response_submit(expert=experts[k], round_=live, answers={
                "agree": ItemAnswer(values={"": value}, rationale=f"Live argument {k}")})
    with capture(execute=True):  # one more submission: no new batch is published
        response_submit(expert=experts[3], round_=live, answers={
            "agree": ItemAnswer(values={"": 1}, rationale="Not yet published")})

    [entry] = feedback_archive(study, live)
    run = live.aggregation_runs.get(status="done")
    assert (entry.number, entry.live, entry.source["version"], entry.source["live"]) == (
        1, True, run.version, True)
    agree = _item(entry, "agree")
    # 2 4 5: median 4, quartiles at positions 1.5 and 2.5: 3 and 4.5; 2 of 3 in 4-5: 67 %.
    assert agree.parts[0].title == ("The panel now: n = 3 · median 4 · middle half 3–4.5 · "
                                    "67\u00a0% agree (4-5)")
    assert _texts(agree) == ["Live argument 0", "Live argument 1", "Live argument 2"]

    observer = expert_create(study=study, name="Observer", email="o@example.org", group_code="US")
    client = Client()
    client.get(f"/e/{expert_issue_token(expert=observer)}/")
    page = client.get("/q/").content.decode()
    assert _page_titles(page) == [p.title for i in entry.items for p in i.parts if not p.withheld]


def test_the_archive_reads_in_russian(two_rounds):
    from django.template.loader import render_to_string
    from django.utils import translation

    round2, _reader = two_rounds
    with translation.override("ru"):
        section = render_to_string("surveys/reports/_archive.html",
                                   {"archive": feedback_archive(round2.study, round2)})
    assert "Архив обратной связи" in section and "Обратная связь, показанная в туре 2" in section
    assert "Предыдущий тур: n = 5" in section and "Из среза тура 1 (версия 1" in section
    assert "Не показано: меньше 3 ответов" in section


def test_a_snapshot_computed_again_after_the_round_opened_is_flagged(
        two_rounds, django_capture_on_commit_callbacks):
    from surveys.services.aggregation import aggregation_request

    round2, _reader = two_rounds
    assert not _entry(round2).recomputed
    round1 = Round.objects.get(study=round2.study, number=1)
    with django_capture_on_commit_callbacks(execute=True):
        aggregation_request(round_=round1)

    entry = _entry(round2)
    assert entry.source["version"] == 2 and entry.recomputed



def test_a_realtime_snapshot_round_keeps_its_closing_snapshot(django_capture_on_commit_callbacks):
    from surveys.services.aggregation import live_snapshot

    capture = django_capture_on_commit_callbacks
    study = study_load(data=small_study_data("archive-snap") | {"mode": "realtime"})
    live = round_open(round_=round_create(study=study))
    experts = [expert_create(study=study, name=f"Snap {k}", email=f"s{k}@example.org",
                             group_code=GROUPS[k]) for k in range(4)]
    for k, value in enumerate([2, 4, 5, 1]):
        with capture(execute=True):
            response_submit(expert=experts[k], round_=live, answers={
                "agree": ItemAnswer(values={"": value}, rationale=f"Snap argument {k}")})
    with capture(execute=True):
        second = live_snapshot(study=study)

    first, now = feedback_archive(study, second)
    snapshot = live.aggregation_runs.get(kind="round", status="done")
    assert (first.number, first.source["version"], first.source["live"]) == (
        1, snapshot.version, False)
    # The closing snapshot counts all four answers (1 2 4 5: median 3, quartiles at positions
    # 1.75 and 3.25: 1.75 and 4.25, shown to the nearest half as the questionnaire shows them,
    # 2 and 4.5; 2 of 4 in 4-5: 50 %), which the last live batch (three answers) did not.
    stored = Aggregate.objects.get(round=live, item__code="agree", group="")
    assert (stored.n, stored.q1, stored.q3) == (4, 1.75, 4.25)
    assert _item(first, "agree").parts[0].title == (
        "The panel now: n = 4 · median 3 · middle half 2–4.5 · 50\u00a0% agree (4-5)")
    assert _texts(_item(first, "agree")) == [f"Snap argument {k}" for k in range(4)]
    assert now.number == 2 and now.source["live"]


def test_the_archive_dates_its_snapshot_in_utc_as_the_rest_of_the_report(two_rounds):
    from django.template.loader import render_to_string
    from django.utils import translation

    round2, _reader = two_rounds
    entry = _entry(round2)
    with translation.override("en"):
        text = render_to_string("surveys/reports/_archive.html", {"archive": [entry]})
    stamp = entry.source["at"].strftime("%Y-%m-%d %H:%M")  # TIME_ZONE is UTC
    assert f"computed {stamp} UTC" in text
    assert not re.search(r"\b[ap]\.m\.", text)

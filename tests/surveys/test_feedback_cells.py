"""Small cells: experts see no figure, distribution or argument that fewer than the study's
min_cell answers stand behind (default 3), and Real-Time feedback changes in batches."""

import pytest
from django.test import Client

from surveys.errors import StudyFileError
from surveys.models import Study
from surveys.services.panel import expert_create, expert_issue_token
from surveys.services.responses import ItemAnswer, response_submit
from surveys.services.rounds import round_close, round_create, round_open
from surveys.services.studies import study_load
from tests.conftest import small_study_data

pytestmark = pytest.mark.django_db

NOTE = "shown once at least 3 experts have answered"


def _experts(study: Study, names: str) -> list:
    return [expert_create(study=study, name=name, email=f"{name}@example.org",
                          group_code=("RU", "US", "WE")[k % 3])
            for k, name in enumerate(names.split())]


def _submit(expert, round_, value: int, capture) -> None:
    with capture(execute=True):
        response_submit(expert=expert, round_=round_, answers={
            "agree": ItemAnswer(values={"": value}, rationale=f"Argument of {expert.name}")})


def _round_two_after(values: list[int], capture, *, groups: tuple = ("RU", "US", "WE")):
    """A classic study whose round 1 was answered with `values` (one expert each, in turn in
    `groups`), closed and aggregated; round 2 is open. Returns round 2 and an expert who
    did not answer round 1."""
    study = study_load(data=small_study_data("cells"))
    round1 = round_open(round_=round_create(study=study))
    for k, value in enumerate(values):
        expert = expert_create(study=study, name=f"e{k}", email=f"e{k}@example.org",
                               group_code=groups[k % len(groups)])
        _submit(expert, round1, value, capture)
    with capture(execute=True):
        round_close(round_=round1)
    round2 = round_open(round_=round_create(study=study))
    reader = expert_create(study=study, name="reader", email="reader@example.org",
                           group_code=groups[0])
    return round2, reader


def _what_the_expert_sees(expert) -> tuple[str, str, dict]:
    """The questionnaire page, the arguments fragment and the API item of `agree`."""
    token = expert_issue_token(expert=expert)
    client = Client()
    client.get(f"/e/{token}/")
    page = client.get("/q/").content.decode()
    arguments = client.get("/q/arguments/agree/", HTTP_HX_REQUEST="true").content.decode()
    me = Client().get("/api/v1/me/", HTTP_X_INVITATION_TOKEN=token).json()
    return page, arguments, next(i for i in me["items"] if i["code"] == "agree")


def test_with_two_answers_an_expert_sees_no_figures_and_no_arguments(
        django_capture_on_commit_callbacks):
    _round2, reader = _round_two_after([2, 4], django_capture_on_commit_callbacks)

    page, arguments, item = _what_the_expert_sees(reader)

    assert "n = 2" not in page and "Previous round:" not in page
    assert "Argument of" not in page + arguments and "arguments from the panel" not in page
    assert NOTE in page.lower()
    assert item["feedback"] == [] and item["rationales"] == []
    assert NOTE in item["note"].lower()


def test_with_three_answers_the_figures_and_arguments_appear(django_capture_on_commit_callbacks):
    _round2, reader = _round_two_after([2, 4, 5], django_capture_on_commit_callbacks)

    page, arguments, item = _what_the_expert_sees(reader)

    assert "Previous round: n = 3 · median 4" in page and NOTE not in page.lower()
    assert "3 arguments from the panel" in page
    assert {"Argument of e0", "Argument of e1", "Argument of e2"} <= {
        r["text"] for r in item["rationales"]}
    assert all(f"Argument of e{k}" in arguments for k in range(3))
    assert [f["n"] for f in item["feedback"]] == [3] and item["note"] == ""


def test_the_note_reads_in_russian(django_capture_on_commit_callbacks):
    _round2, reader = _round_two_after([2, 4], django_capture_on_commit_callbacks)
    reader.language = "ru"
    reader.save(update_fields=["language"])
    client = Client()
    client.get(f"/e/{expert_issue_token(expert=reader)}/")
    client.post("/q/language/", {"language": "ru", "next": "/q/"})

    page = client.get("/q/").content.decode()

    assert "не менее 3 экспертов" in page


def test_a_group_of_two_shows_no_group_figures(django_capture_on_commit_callbacks):
    # Five answers: the panel's figures show, but the RU group (two experts) is never shown
    # apart, to experts of that group or any other.
    _round2, reader = _round_two_after([1, 1, 5, 5, 5], django_capture_on_commit_callbacks,
                                       groups=("RU", "US", "WE", "WE", "US"))

    page, _arguments, item = _what_the_expert_sees(reader)

    assert "n = 5" in page and "n = 2" not in page and "n = 1" not in page
    assert "Russia" not in page
    assert [f["n"] for f in item["feedback"]] == [5]


def test_the_setting_comes_from_the_study_file(django_capture_on_commit_callbacks):
    study = study_load(data=small_study_data("five") | {"min_cell": 5})
    assert study.min_cell == 5
    assert study_load(data=small_study_data("default")).min_cell == 3
    with pytest.raises(StudyFileError) as refused:
        study_load(data=small_study_data("zero") | {"min_cell": 0})
    assert refused.value.problems == ["min_cell: expected a whole number from 1 to 50"]


# Real-Time: batches ------------------------------------------------------------------------


def _n_seen(expert) -> int | None:
    token = expert_issue_token(expert=expert)
    item = next(i for i in Client().get("/api/v1/me/", HTTP_X_INVITATION_TOKEN=token)
                .json()["items"] if i["code"] == "agree")
    return item["feedback"][0]["n"] if item["feedback"] else None


def _texts_seen(expert) -> set[str]:
    token = expert_issue_token(expert=expert)
    item = next(i for i in Client().get("/api/v1/me/", HTTP_X_INVITATION_TOKEN=token)
                .json()["items"] if i["code"] == "agree")
    return {r["text"] for r in item["rationales"]}


def test_one_realtime_submission_changes_nothing_the_others_see_until_the_batch_is_reached(
        django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    study = study_load(data=small_study_data("batch") | {"mode": "realtime"})
    live = round_open(round_=round_create(study=study))
    ann, ben, cat, dan, eve, fay, observer = _experts(study, "ann ben cat dan eve fay observer")

    _submit(ann, live, 2, capture)
    _submit(ben, live, 4, capture)
    assert _n_seen(observer) is None and _texts_seen(observer) == set()

    _submit(cat, live, 5, capture)
    assert _n_seen(observer) == 3
    assert _texts_seen(observer) == {"Argument of ann", "Argument of ben", "Argument of cat"}

    _submit(dan, live, 1, capture)  # one submission: pinned to no moment
    assert _n_seen(observer) == 3 and "Argument of dan" not in _texts_seen(observer)
    _submit(eve, live, 1, capture)
    assert _n_seen(observer) == 3

    _submit(fay, live, 1, capture)  # the third since the last batch
    assert _n_seen(observer) == 6
    assert {"Argument of dan", "Argument of eve", "Argument of fay"} <= _texts_seen(observer)


def test_a_realtime_revision_waits_for_the_batch_too(django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    study = study_load(data=small_study_data("revise") | {"mode": "realtime"})
    live = round_open(round_=round_create(study=study))
    ann, ben, cat, observer = _experts(study, "ann ben cat observer")
    for expert in (ann, ben, cat):
        _submit(expert, live, 2, capture)
    token = expert_issue_token(expert=observer)
    before = Client().get("/api/v1/me/", HTTP_X_INVITATION_TOKEN=token).json()["items"]

    with capture(execute=True):  # Ann changes her mind and her argument
        response_submit(expert=ann, round_=live, answers={
            "agree": ItemAnswer(values={"": 5}, rationale="A new argument")})

    after = Client().get("/api/v1/me/", HTTP_X_INVITATION_TOKEN=token).json()["items"]
    assert after == before


def test_one_expert_revising_again_and_again_does_not_make_a_batch(
        django_capture_on_commit_callbacks):
    # Otherwise an observer could follow a colleague's submission with two revisions of their
    # own and read the colleague's answer off the change.
    capture = django_capture_on_commit_callbacks
    study = study_load(data=small_study_data("alone") | {"mode": "realtime"})
    live = round_open(round_=round_create(study=study))
    ann, ben, cat, victim, spy = _experts(study, "ann ben cat victim spy")
    for expert in (ann, ben, cat):
        _submit(expert, live, 2, capture)
    assert _n_seen(spy) == 3

    _submit(victim, live, 5, capture)
    for value in (1, 2, 3):
        _submit(spy, live, value, capture)

    assert _n_seen(spy) == 3 and "Argument of victim" not in _texts_seen(spy)

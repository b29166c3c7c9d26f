"""An expert's response: validated drafts, versions, the submit, and the closed round."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from surveys.errors import RoundNotOpen, ServiceError, StaleVersion
from surveys.models import Answer, ExpertiseRating, Rationale, Response, ResponseRevision, Round
from surveys.services.responses import (
    ItemAnswer,
    questionnaire_save,
    response_save_draft,
    response_submit,
)
from surveys.services.rounds import round_close, round_create, round_open
from surveys.services.studies import study_load
from tests.conftest import small_study_data


def full_answers() -> dict[str, ItemAnswer]:
    """A valid answer to every item of the small study."""
    return {
        "agree": ItemAnswer(values={"": 4}, rationale="Both sides would gain."),
        "dims": ItemAnswer(values={"desirability": 5, "feasibility": 2}),
        "prob": ItemAnswer(values={"": 37.5}),
        "year": ItemAnswer(values={"": 2030}),
        "rank": ItemAnswer(values={"a": 2, "b": 3, "c": 1}),
        "open": ItemAnswer(text="Joint exercises."),
    }


def saved(expert, round_) -> set[tuple]:
    """Everything stored for the expert in the round, as comparable tuples."""
    answers = {(a.item.code, a.dimension, a.value, a.text, a.no_opinion)
               for a in Answer.objects.filter(response__expert=expert, response__round=round_)
               .select_related("item")}
    reasons = {(r.item.code, "why", r.text) for r in Rationale.objects.filter(
        response__expert=expert, response__round=round_).select_related("item")}
    return answers | reasons


EVERYTHING = {
    ("agree", "", 4.0, "", False), ("agree", "why", "Both sides would gain."),
    ("dims", "desirability", 5.0, "", False), ("dims", "feasibility", 2.0, "", False),
    ("prob", "", 37.5, "", False), ("year", "", 2030.0, "", False),
    ("rank", "a", 2.0, "", False), ("rank", "b", 3.0, "", False), ("rank", "c", 1.0, "", False),
    ("open", "", None, "Joint exercises.", False),
}


def test_a_draft_stores_answers_of_every_kind(round1, alice):
    response = response_save_draft(expert=alice, round_=round1, answers=full_answers())

    assert response.status == Response.Status.DRAFT
    assert response.version == 1
    assert saved(alice, round1) == EVERYTHING


def test_saving_again_replaces_only_the_items_in_the_payload(round1, alice):
    response_save_draft(expert=alice, round_=round1, answers=full_answers())

    response = response_save_draft(expert=alice, round_=round1, answers={
        "agree": ItemAnswer(values={"": 2}), "rank": ItemAnswer(values={"a": 1, "b": 2, "c": 3})})

    assert response.version == 2
    expected = {row for row in EVERYTHING if row[0] not in {"agree", "rank"}} | {
        ("agree", "", 2.0, "", False),
        ("rank", "a", 1.0, "", False), ("rank", "b", 2.0, "", False), ("rank", "c", 3.0, "", False),
    }
    assert saved(alice, round1) == expected  # the old rationale went with the old agree answer


@pytest.mark.parametrize(("code", "values", "field"), [
    ("agree", {"": 6}, "agree"),
    ("agree", {"": 0}, "agree"),
    ("dims", {"desirability": 3, "feasibility": 9}, "dims.feasibility"),
    ("prob", {"": 101}, "prob"),
    ("prob", {"": -0.5}, "prob"),
    ("year", {"": 2200}, "year"),
    ("year", {"": 2030.5}, "year"),
    ("year", {"": float("nan")}, "year"),
    ("rank", {"a": 1, "b": 1, "c": 2}, "rank"),
    ("rank", {"a": 1, "b": 2, "c": 4}, "rank.c"),
    ("rank", {"a": 1, "b": 2, "d": 3}, "rank"),
])
def test_an_out_of_range_answer_is_refused_and_loses_nothing(round1, alice, code, values, field):
    response_save_draft(expert=alice, round_=round1, answers=full_answers())

    with pytest.raises(ServiceError) as caught:
        response_save_draft(expert=alice, round_=round1, answers={
            "open": ItemAnswer(text="Changed"), code: ItemAnswer(values=values)})

    assert caught.value.status == 400
    assert field in caught.value.field_errors
    assert saved(alice, round1) == EVERYTHING
    assert Response.objects.get(expert=alice, round=round1).version == 1


def test_an_overlong_rationale_is_refused(round1, alice):
    with pytest.raises(ServiceError) as caught:
        response_save_draft(expert=alice, round_=round1, answers={
            "agree": ItemAnswer(values={"": 3}, rationale="x" * 5001)})

    assert "5000 characters" in caught.value.field_errors["agree"]
    assert not Answer.objects.exists()


def test_an_answer_to_an_unknown_item_is_refused(round1, alice):
    with pytest.raises(ServiceError) as caught:
        response_save_draft(expert=alice, round_=round1, answers={
            "agree": ItemAnswer(values={"": 3}), "nope": ItemAnswer(values={"": 3})})

    assert "not part of this round" in caught.value.field_errors["nope"]
    assert not Answer.objects.exists()


def test_an_answer_to_an_item_of_the_study_but_not_of_the_round_is_refused(study, alice):
    round_ = round_open(round_=round_create(study=study, items=[study.items.get(code="agree")]))

    with pytest.raises(ServiceError) as caught:
        response_submit(expert=alice, round_=round_, answers={
            "agree": ItemAnswer(values={"": 3}), "prob": ItemAnswer(values={"": 50})})

    assert set(caught.value.field_errors) == {"prob"}
    assert not Response.objects.filter(status=Response.Status.SUBMITTED).exists()
    assert not Answer.objects.exists()


def test_an_expert_cannot_answer_another_studys_round(round1, alice):
    other = study_load(data=small_study_data("other"))
    other_round = round_open(round_=round_create(study=other))

    with pytest.raises(ServiceError, match="not part of your study"):
        response_save_draft(expert=alice, round_=other_round, answers=full_answers())

    assert not Response.objects.exists()


def test_a_stale_version_is_refused_with_409_and_changes_nothing(round1, alice):
    response_save_draft(expert=alice, round_=round1, answers=full_answers(), expected_version=0)

    with pytest.raises(StaleVersion) as caught:
        response_save_draft(expert=alice, round_=round1, expected_version=0,
                            answers={"agree": ItemAnswer(values={"": 1})})

    assert caught.value.status == 409
    assert saved(alice, round1) == EVERYTHING
    assert Response.objects.get(expert=alice, round=round1).version == 1


def test_the_current_version_is_accepted(round1, alice):
    response_save_draft(expert=alice, round_=round1, answers=full_answers(), expected_version=0)

    response = response_save_draft(expert=alice, round_=round1, expected_version=1,
                                   answers={"agree": ItemAnswer(values={"": 1})})

    assert response.version == 2


def test_a_response_read_before_the_save_is_claimed_by_its_version(round1, alice):
    """As the questionnaire saves: with the response it read and the page's version, one
    UPDATE checks and raises the version; the first save's time stays."""
    response_save_draft(expert=alice, round_=round1, answers=full_answers(), expected_version=0)
    read = Response.objects.get(expert=alice, round=round1)
    first_save = read.started_at

    response = questionnaire_save(expert=alice, round_=round1, expected_version=1, response=read,
                                  answers={"agree": ItemAnswer(values={"": 1})})

    stored = Response.objects.get(pk=read.pk)
    assert response.version == stored.version == 2
    assert stored.started_at == response.started_at == first_save is not None
    assert ("agree", "", 1.0, "", False) in saved(alice, round1)


def test_a_response_read_before_another_tab_saved_is_stale(round1, alice):
    response_save_draft(expert=alice, round_=round1, answers=full_answers(), expected_version=0)
    read = Response.objects.get(expert=alice, round=round1)
    response_save_draft(expert=alice, round_=round1, expected_version=1,  # another tab
                        answers={"prob": ItemAnswer(values={"": 90})})

    with pytest.raises(StaleVersion) as caught:
        questionnaire_save(expert=alice, round_=round1, expected_version=1, response=read,
                           answers={"agree": ItemAnswer(values={"": 1})})

    assert caught.value.status == 409 and "changed elsewhere" in caught.value.message
    assert Response.objects.get(pk=read.pk).version == 2
    assert ("agree", "", 4.0, "", False) in saved(alice, round1)


def test_a_claimed_submit_marks_the_response_and_numbers_its_revisions(round1, alice):
    response_save_draft(expert=alice, round_=round1, answers=full_answers(), expected_version=0)
    read = Response.objects.get(expert=alice, round=round1)

    submitted = questionnaire_save(expert=alice, round_=round1, expected_version=1,
                                   response=read, submit=True, answers={})
    revised = questionnaire_save(expert=alice, round_=round1, expected_version=2,
                                 response=Response.objects.get(pk=read.pk),
                                 answers={"agree": ItemAnswer(values={"": 2})})

    stored = Response.objects.get(pk=read.pk)
    assert submitted.status == stored.status == Response.Status.SUBMITTED
    assert stored.submitted_at == submitted.submitted_at is not None
    assert revised.version == stored.version == 3
    assert list(ResponseRevision.objects.filter(response=stored).order_by("number")
                .values_list("number", "version")) == [(1, 2), (2, 3)]


def test_expert_cannot_submit_after_round_closes(round1, alice, django_capture_on_commit_callbacks):
    response_save_draft(expert=alice, round_=round1, answers=full_answers())
    with django_capture_on_commit_callbacks(execute=True):
        round_close(round_=round1)
    round1.refresh_from_db()

    with pytest.raises(RoundNotOpen) as caught:
        response_submit(expert=alice, round_=round1, answers={"agree": ItemAnswer(values={"": 1})})
    with pytest.raises(RoundNotOpen):
        response_save_draft(expert=alice, round_=round1, answers={})

    assert caught.value.status == 409
    assert round1.status == Round.Status.AGGREGATED
    assert saved(alice, round1) == EVERYTHING
    assert Response.objects.get(expert=alice, round=round1).status == Response.Status.DRAFT


def test_expert_cannot_answer_after_the_closing_time_passed(study, alice):
    round_ = round_open(round_=round_create(study=study),
                        closes_at=timezone.now() + timedelta(hours=1))
    Round.objects.filter(pk=round_.pk).update(closes_at=timezone.now() - timedelta(seconds=1))
    round_.refresh_from_db()

    with pytest.raises(RoundNotOpen):
        response_submit(expert=alice, round_=round_, answers=full_answers())

    assert not Answer.objects.exists()


def test_a_submitted_response_can_be_revised_while_the_round_is_open(round1, alice):
    first = response_submit(expert=alice, round_=round1, answers=full_answers())
    assert first.status == Response.Status.SUBMITTED and first.submitted_at is not None

    revised = response_save_draft(expert=alice, round_=round1,
                                  answers={"agree": ItemAnswer(values={"": 5})})
    resubmitted = response_submit(expert=alice, round_=round1,
                                  answers={"prob": ItemAnswer(values={"": 80})})

    assert revised.pk == first.pk and revised.status == Response.Status.SUBMITTED
    assert resubmitted.version == 3
    assert Response.objects.get(pk=first.pk).status == Response.Status.SUBMITTED
    assert ("agree", "", 5.0, "", False) in saved(alice, round1)
    assert ("prob", "", 80.0, "", False) in saved(alice, round1)
    assert Response.objects.count() == 1


def test_no_opinion_is_stored_as_a_row_without_a_value(round1, alice):
    response_save_draft(expert=alice, round_=round1, answers={
        "agree": ItemAnswer(no_opinion=True),
        "dims": ItemAnswer(no_opinion=True, values={"desirability": 4}),
        "rank": ItemAnswer(no_opinion=True)})

    assert saved(alice, round1) == {
        ("agree", "", None, "", True),
        ("dims", "desirability", None, "", True), ("dims", "feasibility", None, "", True),
        ("rank", "a", None, "", True), ("rank", "b", None, "", True),
        ("rank", "c", None, "", True),
    }


def test_an_open_question_has_no_no_opinion_choice(round1, alice):
    with pytest.raises(ServiceError) as caught:
        response_save_draft(expert=alice, round_=round1,
                            answers={"open": ItemAnswer(no_opinion=True)})

    assert "open" in caught.value.field_errors


def test_a_page_with_bad_expertise_saves_none_of_its_answers(round1, alice, study):
    theme = study.themes.first()

    with pytest.raises(ServiceError):
        questionnaire_save(expert=alice, round_=round1, answers=full_answers(),
                           expertise={theme.pk: 6}, submit=True)

    assert not Answer.objects.exists()
    assert not ExpertiseRating.objects.exists()
    assert not Response.objects.filter(status=Response.Status.SUBMITTED).exists()


def test_a_page_submits_answers_and_expertise_together(round1, alice, study):
    theme = study.themes.first()

    response = questionnaire_save(expert=alice, round_=round1, answers=full_answers(),
                                  expertise={theme.pk: 4}, submit=True, expected_version=0)

    assert response.status == Response.Status.SUBMITTED
    assert saved(alice, round1) == EVERYTHING
    assert ExpertiseRating.objects.get(expert=alice, theme=theme).level == 4


def test_the_database_allows_one_response_per_expert_per_round(round1, alice, bob):
    Response.objects.create(round=round1, expert=alice)
    Response.objects.create(round=round1, expert=bob)

    with pytest.raises(IntegrityError), transaction.atomic():
        Response.objects.create(round=round1, expert=alice)

    assert Response.objects.filter(round=round1, expert=alice).count() == 1

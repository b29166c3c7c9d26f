"""Deletes never cascade into answers: every path from a study to its answers is protected."""

import pytest
from django.apps import apps
from django.db import models
from django.db.models import ProtectedError

from tests.api.conftest import bearer

pytestmark = pytest.mark.django_db


def test_no_delete_can_cascade_into_answers_responses_or_revisions():
    """A row goes in a cascade only through a CASCADE key of its own; these have none."""
    for name in ("surveys.Answer", "surveys.Rationale", "surveys.Response", "surveys.ResponseRevision"):
        keys = [f for f in apps.get_model(name)._meta.get_fields() if isinstance(f, models.ForeignKey)]
        assert keys
        for key in keys:
            assert key.remote_field.on_delete is models.PROTECT, (name, key.name)


def test_deleting_what_answers_refer_to_is_refused(round1, alice):
    from surveys.models import Answer, Item
    from surveys.services.responses import ItemAnswer, response_submit

    response = response_submit(expert=alice, round_=round1,
                               answers={"agree": ItemAnswer(values={"": 4}, rationale="Why")})
    for obj in (response, alice, round1, Item.objects.get(study=round1.study, code="agree"),
                round1.study):
        with pytest.raises(ProtectedError):
            obj.delete()
    assert Answer.objects.filter(response=response).count() == 1


def test_the_api_refuses_to_delete_an_expert_with_answers_and_says_what_to_do(api, round1, alice,
                                                                             organizer):
    from surveys.services.responses import ItemAnswer, response_save_draft

    response_save_draft(expert=alice, round_=round1, answers={"agree": ItemAnswer(values={"": 3})})
    headers = bearer(organizer)
    refused = api.delete(f"/api/v1/studies/small/experts/{alice.pk}/", **headers)
    assert refused.status_code == 409 and "withdraw" in refused.json()["detail"]
    withdrawn = api.post(f"/api/v1/studies/small/experts/{alice.pk}/withdraw/", **headers)
    assert withdrawn.status_code == 200 and withdrawn.json()["withdrawn_at"]
    assert alice.responses.get().answers.count() == 1


def test_an_expert_who_never_answered_can_be_removed(api, study, bob, organizer):
    assert api.delete(f"/api/v1/studies/small/experts/{bob.pk}/", **bearer(organizer)).status_code == 204
    assert not study.experts.filter(pk=bob.pk).exists()


def test_only_a_draft_round_can_be_deleted(api, study, round1, organizer):
    headers = bearer(organizer)
    assert api.delete("/api/v1/studies/small/rounds/1/", **headers).status_code == 409
    assert study.rounds.filter(number=1).exists()


def test_the_last_owner_stays(api, owner):
    member = owner.studymember_set.get()
    refused = api.delete(f"/api/v1/studies/small/members/{member.pk}/", **bearer(owner))
    assert refused.status_code == 400 and "at least one owner" in refused.json()["detail"]

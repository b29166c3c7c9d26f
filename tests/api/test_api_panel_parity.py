"""One behaviour, one service: withdrawing an expert (and revoking a link) through the API and
through the workspace leaves the same state and the same audit row."""

import pytest
from django.test import Client

from surveys.models import AuditEvent, Expert
from surveys.services.panel import expert_issue_token
from tests.api.conftest import bearer
from workspace.models import Message
from workspace.services import mail
from workspace.services.panel import expert_revoke_token

pytestmark = pytest.mark.django_db
S = "/api/v1/studies/small/"


def _workspace(user) -> Client:
    client = Client()
    assert client.post("/accounts/login/", {"username": user.username,
                                            "password": f"{user.username}-pw-123"}).status_code == 302
    return client


def _state(expert: Expert) -> dict:
    expert = Expert.objects.get(pk=expert.pk)
    return {"withdrawn": expert.withdrawn_at is not None,
            "link": expert.links.filter(revoked_at__isnull=True).exists(),
            "messages": sorted(Message.objects.filter(expert=expert)
                               .values_list("status", "error"))}


def _audit(expert: Expert, action: str) -> dict:
    [event] = AuditEvent.objects.filter(action=action, detail__expert=expert.pk)
    return {"actor": event.actor_id, "study": event.study_id,
            "detail": {**event.detail, "expert": "<the expert>"}}


def test_withdrawing_through_the_api_or_the_workspace_leaves_the_same_state_and_audit_row(
        api, study, organizer, alice, bob):
    for expert in (alice, bob):
        expert_issue_token(expert=expert)
    mail.invitations_send(study=study, actor=organizer)  # queued, not sent: pending until on_commit
    assert Message.objects.filter(status=Message.Status.PENDING).count() == 2

    by_api = api.post(
        f"{S}experts/{alice.pk}/withdraw/", {"reason": "asked to leave"}, format="json",
        **bearer(organizer))
    assert by_api.status_code == 200
    by_form = _workspace(organizer).post(f"/studio/{study.slug}/panel/{bob.pk}/withdraw/",
                                         {"reason": "asked to leave", "confirm": "1"})
    assert by_form.status_code == 302

    assert _state(alice) == _state(bob)
    assert _state(alice)["withdrawn"] and not _state(alice)["link"]
    assert _audit(alice, "expert_withdrawn") == _audit(bob, "expert_withdrawn")
    assert _audit(alice, "expert_withdrawn")["detail"] == {
        "expert": "<the expert>", "reason": "asked to leave",
        "before": {"withdrawn": False}, "after": {"withdrawn": True}}


def test_revoking_a_link_through_the_api_is_the_workspace_service(api, study, organizer, alice,
                                                                   bob):
    for expert in (alice, bob):
        expert_issue_token(expert=expert)
    assert api.delete(f"{S}experts/{alice.pk}/invitation/", **bearer(organizer)).status_code == 204
    expert_revoke_token(expert=bob, actor=organizer)
    assert _state(alice) == _state(bob) and not _state(alice)["link"]
    assert _audit(alice, "token_revoked") == _audit(bob, "token_revoked")
    assert _audit(alice, "token_revoked")["detail"]["after"] == {"link": False}

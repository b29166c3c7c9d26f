"""The outbox: each message as the expert received it, for the study's owners and organizers
only, and only where no mail leaves the machine (off in production)."""

import os
import subprocess
import sys

import pytest
from django.contrib.auth import get_user_model

from surveys.models import StudyMember
from surveys.services.panel import member_add
from surveys.services.studies import study_load
from tests.conftest import ROOT, small_study_data
from tests.workspace_helpers import english  # noqa: F401 - a fixture
from workspace.models import Message, OutboxMessage
from workspace.services import mail
from workspace.services.panel import expert_erase

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


@pytest.fixture
def invited(study, organizer, alice, bob, django_capture_on_commit_callbacks):
    """Alice (English) and Bob (Russian) invited; the invitations sent."""
    with django_capture_on_commit_callbacks(execute=True):
        mail.invitations_send(study=study, actor=organizer)
    return study


def _get(client, user, slug="small"):
    if user is not None:
        client.force_login(user)
    return client.get(f"/studio/{slug}/outbox/")


def test_the_owner_reads_each_invitation_as_the_expert_received_it(client, invited, alice):
    owner = get_user_model().objects.create_user(username="owen", password="owen-pw-123")
    member_add(study=invited, user=owner, role=StudyMember.Role.OWNER)

    page = _get(client, owner)

    assert page.status_code == 200
    text = page.content.decode()
    kept = OutboxMessage.objects.get(message__expert=alice)
    assert kept.subject == "Invitation to the expert panel: Small study"
    assert "Alice &lt;alice@example.org&gt;" in text and kept.subject in text
    assert "/e/" in kept.body and kept.body.split("/e/")[1].split("/")[0] in text
    assert 'lang="ru"' in text and "Приглашение" in text  # Bob's, in Russian


def test_an_organizer_reads_it_too(client, invited, organizer):
    assert _get(client, organizer).status_code == 200


@pytest.mark.parametrize("who", ["analyst", "outsider"])
def test_an_analyst_or_a_user_without_a_role_gets_404(client, invited, who, request):
    assert _get(client, request.getfixturevalue(who)).status_code == 404


def test_the_organizer_of_another_study_gets_404(client, invited):
    other = study_load(data=small_study_data("other"))
    stranger = get_user_model().objects.create_user(username="sam", password="sam-pw-123")
    member_add(study=other, user=stranger, role=StudyMember.Role.OWNER)

    assert _get(client, stranger).status_code == 404
    assert _get(client, stranger, slug="other").content.decode().count("ws-outbox-body") == 0


def test_an_expert_session_does_not_open_it(client, invited, alice):
    from surveys.services.panel import expert_issue_token

    token = expert_issue_token(expert=alice)
    assert client.get(f"/e/{token}/").status_code == 302  # signed in as the expert
    page = client.get("/studio/small/outbox/")
    assert page.status_code == 302 and "/accounts/login/" in page["Location"]


def test_anonymous_is_sent_to_the_login(client, invited):
    page = _get(client, None)
    assert page.status_code == 302 and "/accounts/login/" in page["Location"]


def test_in_production_the_outbox_is_off_and_keeps_nothing(
        client, settings, study, organizer, alice, django_capture_on_commit_callbacks):
    settings.AGORA_OUTBOX = False
    with django_capture_on_commit_callbacks(execute=True):
        mail.invitations_send(study=study, actor=organizer)

    assert Message.objects.get(expert=alice).status == Message.Status.SENT
    assert not OutboxMessage.objects.exists()
    assert _get(client, organizer).status_code == 404


def test_erasing_an_expert_removes_their_messages_from_the_outbox(invited, organizer, alice, bob):
    from workspace.services.panel import expert_withdraw

    expert_withdraw(expert=alice, actor=organizer)
    expert_erase(expert=alice, actor=organizer)

    assert list(OutboxMessage.objects.values_list("to_email", flat=True)) == ["bob@example.org"]


def _outbox_setting(**env) -> str:
    """settings.AGORA_OUTBOX as a fresh process computes it from this environment."""
    code = ("import django; django.setup(); from django.conf import settings; "
            "print(settings.AGORA_OUTBOX)")
    clean = {k: v for k, v in os.environ.items() if k not in {"DJANGO_DEBUG", "DJANGO_EMAIL_BACKEND"}}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          timeout=60, env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings.base",
                                           **env})
    return done.stdout.strip().splitlines()[-1]


def test_the_outbox_is_on_by_default_and_off_with_a_real_backend():
    smtp = "django.core.mail.backends.smtp.EmailBackend"
    assert _outbox_setting() == "True"
    assert _outbox_setting(DJANGO_EMAIL_BACKEND=smtp) == "False"
    assert _outbox_setting(DJANGO_EMAIL_BACKEND=smtp, DJANGO_DEBUG="true") == "True"

"""The workspace's background work on a real worker (in-process on the embedded default), and
a real SMTP server on 127.0.0.1 for the invitation."""

import email
import uuid
from datetime import timedelta
from email.policy import default as default_policy

import pytest
from aiosmtpd.controller import Controller
from django.utils import timezone

from surveys.models import Round
from surveys.services.panel import expert_create, expert_for_token, expert_issue_token
from surveys.services.rounds import round_create, round_open
from surveys.services.studies import study_load
from tests.conftest import small_study_data, wait_for
from tests.processes import free_port
from workspace.models import Message
from workspace.services import mail
from workspace.tasks import due_work


def _study():
    study = study_load(data=small_study_data(f"ws-{uuid.uuid4().hex[:8]}"))
    experts = [expert_create(study=study, name=n, email=f"{n.lower()}@example.org", group_code=g)
               for n, g in (("Ann", "RU"), ("Ben", "US"))]
    return study, experts


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_invitations_are_sent_by_the_worker_once_the_request_commits(celery_worker):
    study, experts = _study()
    mail.invitations_send(study=study, actor=None)
    wait_for(lambda: set(Message.objects.filter(study=study).values_list("status", flat=True))
             == {"sent"}, what="the worker to send both invitations")
    assert Message.objects.filter(study=study).count() == 2


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_beat_tick_closes_a_round_past_its_deadline_and_fires_a_due_reminder(celery_worker):
    study, (ann, _ben) = _study()
    late = round_open(round_=round_create(study=study))
    Round.objects.filter(pk=late.pk).update(closes_at=timezone.now() - timedelta(minutes=1))
    other, (carl, dora) = _study()
    for expert in (carl, dora):  # invited: they hold a personal link
        expert_issue_token(expert=expert)
    live = round_open(round_=round_create(study=other),
                      closes_at=timezone.now() + timedelta(hours=10))
    mail.reminder_schedule(round_=live, hours_before=[24], actor=None)

    due_work.delay()  # what Celery beat sends every WORKSPACE_TICK_SECONDS

    wait_for(lambda: Round.objects.get(pk=late.pk).status == Round.Status.AGGREGATED,
             what="the overdue round to close and be aggregated")
    wait_for(lambda: Message.objects.filter(round=live, status="sent").count() == 2,
             what="the due reminder to reach both experts")
    due_work.delay()  # a second tick sends nothing more
    wait_for(lambda: not Message.objects.filter(status__in=["pending", "sending"]).exists(),
             what="the queue to settle")
    assert Message.objects.filter(round=live).count() == 2


class _Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append(envelope)
        return "250 OK"


@pytest.mark.django_db
def test_an_invitation_goes_through_a_real_smtp_server(settings, study, bob):
    inbox = _Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
        message = mail.invitations_send(study=study, actor=None)[0]
        assert mail.message_send(message_id=message.pk) == "sent"
    finally:
        controller.stop()
    (envelope,) = inbox.messages
    assert envelope.rcpt_tos == ["bob@example.org"]
    parsed = email.message_from_bytes(envelope.content, policy=default_policy)
    assert parsed["Subject"].strip() == "Приглашение в экспертную группу: Малое исследование"
    body = parsed.get_content()
    token = body.split("/e/")[1].split("/")[0]
    assert expert_for_token(token) == bob

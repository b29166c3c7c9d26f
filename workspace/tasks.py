"""Celery tasks of the workspace: thin, idempotent, given ids only.

`due_work` runs from Celery beat (CELERY_BEAT_SCHEDULE) every few minutes; it only finds what
is due and enqueues one small task per round or message, each of which claims its work.
"""

from celery import shared_task
from django.db import OperationalError

from workspace.services import mail, rounds

RETRY = {"acks_late": True, "autoretry_for": (OperationalError,), "retry_backoff": True,
         "max_retries": 5}


@shared_task(**RETRY)
def due_work() -> dict:
    """Close rounds past their deadline, open scheduled rounds, fire due reminders."""
    closing, opening = rounds.rounds_due()
    for round_id in closing:
        close_due_round.delay(round_id)
    for round_id in opening:
        open_due_round.delay(round_id)
    fired = mail.reminders_due()
    return {"closing": closing, "opening": opening, "reminders": fired}


@shared_task(**RETRY)
def close_due_round(round_id: int) -> bool:
    return rounds.round_close_if_due(round_id=round_id)


@shared_task(**RETRY)
def open_due_round(round_id: int) -> bool:
    return rounds.round_open_if_due(round_id=round_id)


# Routed to the email queue (config/queues.py: *.tasks.send_*). The claim (pending -> sending)
# makes a redelivered message a no-op, so late acks never send an email twice.
@shared_task(**RETRY)
def send_message(message_id: int) -> str:
    return mail.message_send(message_id=message_id)

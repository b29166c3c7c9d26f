"""The outbox: messages kept as the expert received them, where no mail leaves the machine.

On by settings.AGORA_OUTBOX (DEBUG on, or a mail backend that delivers nothing, as in the
embedded default); off in production, where nothing is kept. The bodies carry the experts'
personal links, so only the study's owners and organizers read them (workspace.views.outbox).
"""

from datetime import datetime

from django.conf import settings

from workspace.models import Message, OutboxMessage


def outbox_enabled() -> bool:
    return bool(settings.AGORA_OUTBOX)


def outbox_keep(*, message: Message, subject: str, body: str, sent_at: datetime) -> None:
    """Keep a copy of a sent message when the outbox is on (at most one per message)."""
    if not outbox_enabled():
        return
    OutboxMessage.objects.get_or_create(message=message, defaults={
        "study_id": message.study_id, "to_email": message.to_email,
        "language": message.language, "subject": subject[:300], "body": body,
        "sent_at": sent_at})

"""Invitations and reminders: queued once per idempotency key, sent at most once, all logged.

A message row is created (unique `key`) in the organizer's transaction; once that commits a
task sends it. The task claims the row with a conditional UPDATE (pending -> sending), so a
retried or redelivered task never sends twice; the result (sent or failed, with the error) is
written on the row for the organizer to see.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from surveys.errors import ServiceError
from surveys.models import AuditEvent, Expert, ExpertLink, Response, Round, Study
from surveys.services.panel import expert_issue_token
from workspace.models import Message, Reminder
from workspace.services.outbox import outbox_keep

log = logging.getLogger(__name__)
Status = Message.Status


def _enqueue(message: Message) -> None:
    from workspace.tasks import send_message

    send_message.delay_on_commit(message.pk)


def _queue(*, expert: Expert, kind: str, key: str, actor, round_: Round | None = None,
           reminder: Reminder | None = None) -> Message | None:
    """Create the message unless its key exists already (then nothing is sent again)."""
    if Message.objects.filter(key=key).exists():
        return None
    try:
        with transaction.atomic():
            message = Message.objects.create(
                study_id=expert.study_id, expert=expert, kind=kind, key=key, round=round_,
                reminder=reminder, to_email=expert.email, language=expert.language,
                created_by=actor)
    except IntegrityError:  # a concurrent request queued the same key first
        return None
    _enqueue(message)
    return message


def _invitable(study: Study):
    return study.experts.filter(withdrawn_at__isnull=True).select_related("group")


@transaction.atomic
def invitations_send(*, study: Study, actor, experts: list[Expert] | None = None,
                     nonce: str = "") -> list[Message]:
    """Invite the given experts (default: every active expert never invited yet).

    Without `nonce` an expert who already has an invitation is skipped; a re-send by hand
    passes the form's nonce, so a double click or a replayed form still sends only once.
    """
    if experts is None:
        invited = Message.objects.filter(study=study, kind=Message.Kind.INVITATION).exclude(
            status=Status.FAILED).values_list("expert_id", flat=True)
        experts = list(_invitable(study).exclude(pk__in=invited))
    queued = []
    for expert in experts:
        if expert.study_id != study.pk or expert.withdrawn_at is not None:
            raise ServiceError(_("Only active experts of this study can be invited."))
        key = f"invitation:{expert.pk}:{nonce}" if nonce else f"invitation:{expert.pk}"
        message = _queue(expert=expert, kind=Message.Kind.INVITATION, key=key, actor=actor)
        if message is not None:
            queued.append(message)
    if queued:
        AuditEvent.objects.create(study=study, actor=actor, action="invitations_queued",
                                  detail={"experts": [m.expert_id for m in queued]})
    return queued


def non_responders(round_: Round):
    """Whom a reminder of the round goes to: active experts of its study holding a personal
    link (invited, and not revoked since) who have not submitted the round. An expert never
    invited, or whose links were revoked, gets no reminder: its fresh link would invite them."""
    submitted = Response.objects.filter(round=round_, status=Response.Status.SUBMITTED
                                        ).values_list("expert_id", flat=True)
    return linked_experts(round_.study).exclude(pk__in=submitted)


def linked_experts(study: Study):
    """The active experts holding a live personal link (those a round's notice goes to)."""
    return _invitable(study).filter(Exists(_live_links()))


def _live_links():
    return ExpertLink.objects.filter(expert_id=OuterRef("pk"), revoked_at__isnull=True)


def round_open_notify(*, round_: Round, actor) -> list[Message]:
    """Tell the panel that the round is open: one message to each active expert holding a live
    personal link, in their language, pointing them to that link. No link is issued or sent
    (only hashes are stored, so the link they hold cannot be sent again, and a new one would be
    one more capability in a mailbox); experts never invited get their invitation instead.
    Called inside the opening transaction; sent once that commits, at most once per round."""
    queued = []
    for expert in linked_experts(round_.study):
        message = _queue(expert=expert, kind=Message.Kind.ROUND_OPENED, round_=round_,
                         key=f"opened:{round_.pk}:{expert.pk}", actor=actor)
        if message is not None:
            queued.append(message)
    AuditEvent.objects.create(study=round_.study, actor=actor, action="round_open_notified",
                              detail={"round": round_.number, "recipients": len(queued)})
    return queued


def _fire(reminder: Reminder, actor) -> list[Message]:
    round_ = reminder.round
    queued = []
    for expert in non_responders(round_):
        message = _queue(expert=expert, kind=Message.Kind.REMINDER, round_=round_,
                         reminder=reminder, key=f"reminder:{reminder.key}:{expert.pk}", actor=actor)
        if message is not None:
            queued.append(message)
    Reminder.objects.filter(pk=reminder.pk).update(recipients=len(queued))
    AuditEvent.objects.create(study=round_.study, actor=actor, action="reminder_sent", detail={
        "round": round_.number, "reminder": reminder.key, "hours_before": reminder.hours_before,
        "recipients": len(queued)})
    return queued


class RemindedRecently(ServiceError):
    status = 409


@transaction.atomic
def reminder_send_now(*, round_: Round, actor, nonce: str) -> list[Message]:
    """Remind the round's non-responders by hand: once per form (the nonce is the key), and
    at most once per MANUAL_REMINDER_WINDOW for the round, so a second click or a concurrent
    request sends nothing more (RemindedRecently)."""
    if not nonce or len(nonce) > 40:
        raise ServiceError(_("The form has expired; reload the page."))
    # The round's row lock serializes concurrent requests: the second one waits here, then
    # sees the first one's reminder (PostgreSQL's read committed reads it once committed).
    round_ = Round.objects.select_for_update(of=("self",)).select_related("study").get(pk=round_.pk)
    if round_.status != Round.Status.OPEN:
        raise ServiceError(_("Reminders go out only while the round is open."))
    if Reminder.objects.filter(key=f"manual-{nonce}").exists():
        return []
    now = timezone.now()
    window = timedelta(seconds=settings.MANUAL_REMINDER_WINDOW)
    # A reminder that reached nobody (everyone had submitted) does not hold the next one back.
    last = (Reminder.objects.filter(round=round_, hours_before__isnull=True, recipients__gt=0,
                                    fired_at__gt=now - window)
            .order_by("-fired_at").values_list("fired_at", flat=True).first())
    if last is not None:
        raise RemindedRecently(
            _("A reminder of this round went out %(minutes)s minute(s) ago; another can go out "
              "%(window)s minutes after it.") % {
                "minutes": int((now - last).total_seconds() // 60),
                "window": int(window.total_seconds() // 60)})
    reminder, created = Reminder.objects.get_or_create(
        key=f"manual-{nonce}", defaults={"round": round_, "created_by": actor,
                                         "fired_at": timezone.now()})
    if not created:
        return []
    return _fire(reminder, actor)


@transaction.atomic
def reminder_schedule(*, round_: Round, hours_before: list[int], actor) -> list[Reminder]:
    """Schedule reminders at these hours before the round closes (e.g. 72 and 24)."""
    if round_.status not in {Round.Status.DRAFT, Round.Status.OPEN}:
        raise ServiceError(_("Reminders can be scheduled only for a draft or open round."))
    if any(h < 1 or h > 24 * 60 for h in hours_before):
        raise ServiceError(_("Hours before closing go from 1 to 1440."))
    made = []
    for hours in sorted(set(hours_before), reverse=True):
        reminder, created = Reminder.objects.get_or_create(
            round=round_, hours_before=hours,
            defaults={"key": f"r{round_.pk}-{hours}h", "created_by": actor})
        if created:
            made.append(reminder)
    AuditEvent.objects.create(study=round_.study, actor=actor, action="reminders_scheduled",
                              detail={"round": round_.number, "hours_before": sorted(set(hours_before))})
    return made


@transaction.atomic
def reminder_unschedule(*, reminder: Reminder, actor) -> Reminder:
    """Remove a scheduled reminder not sent yet; returns it (no longer saved)."""
    if reminder.fired_at is not None:
        raise ServiceError(_("This reminder has been sent already."))
    AuditEvent.objects.create(study=reminder.round.study, actor=actor, action="reminder_removed",
                              detail={"round": reminder.round.number,
                                      "hours_before": reminder.hours_before})
    reminder.delete()
    return reminder


def reminders_due(*, now=None) -> int:
    """Fire every scheduled reminder whose time has come; each is claimed exactly once."""
    now = now or timezone.now()
    fired = 0
    candidates = Reminder.objects.filter(
        fired_at__isnull=True, hours_before__isnull=False, round__status=Round.Status.OPEN,
        round__closes_at__gt=now).select_related("round", "round__study")
    for reminder in candidates:
        closes_at, hours = reminder.round.closes_at, reminder.hours_before  # both set (the filter)
        if closes_at is None or hours is None or closes_at - timedelta(hours=hours) > now:
            continue
        with transaction.atomic():
            claimed = Reminder.objects.filter(pk=reminder.pk, fired_at__isnull=True).update(
                fired_at=now)
            if claimed:
                _fire(reminder, None)
                fired += 1
    return fired


def _link(expert: Expert) -> str:
    # Only hashes are stored, so an older link cannot be sent again: the message carries a new
    # one, and the links the expert holds keep working.
    token = expert_issue_token(expert=expert)
    return settings.SITE_URL + reverse("expert_entry", args=[token])


TEMPLATES = {Message.Kind.INVITATION: "invitation", Message.Kind.REMINDER: "reminder",
             Message.Kind.ROUND_OPENED: "round_opened"}


def message_render(message: Message, link: str) -> tuple[str, str]:
    """The subject and body of a message, in the expert's language."""
    expert = message.expert
    with translation.override(message.language or "en"):
        context = {"expert": expert, "study": expert.study, "round": message.round, "link": link}
        name = TEMPLATES[Message.Kind(message.kind)]
        subject = render_to_string(f"workspace/email/{name}_subject.txt", context).strip()
        body = render_to_string(f"workspace/email/{name}.txt", context)
    return " ".join(subject.split()), body


def message_send(*, message_id: int) -> str:
    """Send one queued message at most once; returns its final status."""
    claimed = Message.objects.filter(pk=message_id, status=Status.PENDING).update(
        status=Status.SENDING)
    message = Message.objects.select_related("expert", "expert__study", "round").filter(
        pk=message_id).first()
    if message is None:
        return "missing"
    if not claimed:
        return message.status
    expert = message.expert
    # A reminder or a round's notice is worth sending only to an expert whose links work.
    why_not = (Message.WITHDRAWN if expert.withdrawn_at is not None else
               Message.REVOKED if message.kind != Message.Kind.INVITATION
               and not expert.links.filter(revoked_at__isnull=True).exists() else "")
    if why_not:
        Message.objects.filter(pk=message.pk).update(status=Status.FAILED, error=why_not)
        return Status.FAILED
    try:
        # The round's notice points to the link the expert holds: no new one is issued.
        link = "" if message.kind == Message.Kind.ROUND_OPENED else _link(expert)
        subject, body = message_render(message, link)
        EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [message.to_email]).send()
    except Exception as exc:  # noqa: BLE001 - any failure is recorded for the organizer to see
        log.warning("message %s failed: %s", message.pk, exc.__class__.__name__)
        Message.objects.filter(pk=message.pk).update(
            status=Status.FAILED, error=f"{exc.__class__.__name__}: {exc}"[:1000])
        return Status.FAILED
    now = timezone.now()
    Message.objects.filter(pk=message.pk).update(status=Status.SENT, sent_at=now)
    outbox_keep(message=message, subject=subject, body=body, sent_at=now)
    return Status.SENT


@transaction.atomic
def message_retry(*, message: Message, actor) -> Message:
    """Queue a failed message again under a new key (the failed one stays in the log)."""
    if message.status != Status.FAILED:
        raise ServiceError(_("Only a failed message can be sent again."))
    if message.expert.withdrawn_at is not None:
        raise ServiceError(_("This expert has been withdrawn."))
    Message.objects.select_for_update().filter(pk=message.pk).first()  # one retry at a time
    retries = Message.objects.filter(key__startswith=f"{message.key}#")
    if retries.exclude(status=Status.FAILED).exists():  # a second click, or a replayed form
        raise ServiceError(_("This message has been sent again already."))
    attempt = retries.count() + 1
    retry = _queue(expert=message.expert, kind=message.kind, key=f"{message.key}#{attempt}",
                   actor=actor, round_=message.round, reminder=message.reminder)
    if retry is None:  # a concurrent retry queued this key first
        raise ServiceError(_("This message has been sent again already."))
    AuditEvent.objects.create(study=message.study, actor=actor, action="message_retried",
                              detail={"message": message.pk})
    return retry

"""Rounds: create, open, close, and aggregate into the feedback snapshot."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from surveys.errors import ServiceError
from surveys.models import AuditEvent, Item, Round, Study


@transaction.atomic
def round_create(*, study: Study, items: list[Item] | None = None, actor=None) -> Round:
    """Add the next round as a draft, asking the given items (default: the last round's, or all)."""
    last = study.rounds.order_by("-number").first()
    if last is not None and last.status != Round.Status.AGGREGATED:
        raise ServiceError(_("Round %(number)s must be closed and aggregated first.")
                           % {"number": last.number})
    if items is None:
        items = list(last.items.all()) if last else list(study.items.all())
    if not items:
        raise ServiceError(_("A round needs at least one item."))
    round_ = Round.objects.create(study=study, number=(last.number + 1) if last else 1)
    round_.items.set(items)
    AuditEvent.objects.create(study=study, actor=actor, action="round_created",
                              detail={"round": round_.number, "items": len(items)})
    return round_


@transaction.atomic
def round_open(*, round_: Round, closes_at: datetime | None = None, actor=None) -> Round:
    """Open a draft round to the panel; only one round of a study is open at a time."""
    round_ = Round.objects.select_for_update().get(pk=round_.pk)
    if round_.status != Round.Status.DRAFT:
        raise ServiceError(_("Round %(number)s is %(status)s, not a draft.") % _number_status(round_))
    if closes_at is not None and closes_at <= timezone.now():
        raise ServiceError(_("The closing time must be in the future."))
    if round_.study.rounds.filter(status=Round.Status.OPEN).exists():
        raise ServiceError(_("Another round of this study is open."))
    round_.status = Round.Status.OPEN
    round_.opens_at = timezone.now()
    round_.closes_at = closes_at
    round_.save(update_fields=["status", "opens_at", "closes_at"])
    round_.study.status = Study.Status.ACTIVE
    round_.study.save(update_fields=["status"])
    AuditEvent.objects.create(study=round_.study, actor=actor, action="round_opened",
                              detail={"round": round_.number})
    return round_


@transaction.atomic
def round_close(*, round_: Round, actor=None) -> Round:
    """Close an open round and, once that commits, enqueue its aggregation (snapshot version 1)."""
    from surveys.services.aggregation import aggregation_request

    round_ = Round.objects.select_for_update().get(pk=round_.pk)
    if round_.status != Round.Status.OPEN:
        raise ServiceError(_("Round %(number)s is %(status)s, not open.") % _number_status(round_))
    round_.status = Round.Status.CLOSED
    round_.closed_at = timezone.now()
    round_.save(update_fields=["status", "closed_at"])
    AuditEvent.objects.create(study=round_.study, actor=actor, action="round_closed",
                              detail={"round": round_.number})
    aggregation_request(round_=round_, actor=actor)
    return round_


def _number_status(round_: Round) -> dict:
    """The round's number and status (in the active language, lower case) for messages."""
    return {"number": round_.number, "status": str(round_.get_status_display()).lower()}

"""Running rounds from the workspace: open (now or at a time), deadlines, extend, reopen.

The surveys services do the state changes; these add the workspace's checks (rules locked
before round 1, times in the future) and the scheduled work that Celery beat triggers.
"""

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from surveys.errors import ServiceError
from surveys.models import AggregationRun, AuditEvent, Round, Study
from surveys.services.aggregation import live_snapshot
from surveys.services.rounds import round_close, round_open
from workspace.services.mail import round_open_notify
from workspace.services.rules import rule_required, rules_lock


def _future(when: datetime | None, what: str) -> None:
    if when is not None and when <= timezone.now():
        raise ServiceError(_("%(what)s must be in the future.") % {"what": what})


@transaction.atomic
def round_start(*, round_: Round, actor, closes_at: datetime | None = None,
                opens_at: datetime | None = None) -> Round:
    """Open a draft round now (the panel is told, see round_open_notify), or schedule it to open
    at `opens_at` (told then); round 1 locks the rules."""
    round_ = Round.objects.select_for_update().get(pk=round_.pk)
    if round_.status != Round.Status.DRAFT:
        raise ServiceError(_("Round %(n)s is not a draft.") % {"n": round_.number})
    _future(closes_at, _("The closing time"))
    _future(opens_at, _("The opening time"))
    if opens_at and closes_at and closes_at <= opens_at:
        raise ServiceError(_("The round must close after it opens."))
    if round_.number == 1 and opens_at is not None:
        rule_required(study=round_.study)  # locked when the round actually opens
    elif round_.number == 1:
        rules_lock(study=round_.study, actor=actor)
    if opens_at is not None:
        before = {"opens_at": _iso(round_.opens_at), "closes_at": _iso(round_.closes_at)}
        round_.opens_at, round_.closes_at = opens_at, closes_at
        round_.save(update_fields=["opens_at", "closes_at"])
        AuditEvent.objects.create(study=round_.study, actor=actor, action="round_scheduled",
                                  detail={"round": round_.number, "before": before,
                                          "after": {"opens_at": _iso(opens_at),
                                                    "closes_at": _iso(closes_at)}})
        return round_
    round_ = round_open(round_=round_, closes_at=closes_at, actor=actor)
    round_open_notify(round_=round_, actor=actor)
    return round_


def _iso(when: datetime | None) -> str | None:
    return when.isoformat() if when else None


@transaction.atomic
def round_extend(*, round_: Round, closes_at: datetime, actor) -> Round:
    """Move an open round's deadline later; scheduled reminders move with it."""
    round_ = Round.objects.select_for_update().get(pk=round_.pk)
    if round_.status != Round.Status.OPEN:
        raise ServiceError(_("Only an open round's deadline can be extended."))
    _future(closes_at, _("The new closing time"))
    if round_.closes_at is not None and closes_at <= round_.closes_at:
        raise ServiceError(_("The new closing time must be later than the current one."))
    before = _iso(round_.closes_at)
    round_.closes_at = closes_at
    round_.save(update_fields=["closes_at"])
    AuditEvent.objects.create(study=round_.study, actor=actor, action="round_extended", detail={
        "round": round_.number, "before": {"closes_at": before},
        "after": {"closes_at": _iso(closes_at)}})
    return round_


@transaction.atomic
def round_reopen(*, round_: Round, closes_at: datetime | None, actor) -> Round:
    """Reopen a closed round whose aggregation has not finished; its pending runs are dropped."""
    round_ = Round.objects.select_for_update().get(pk=round_.pk)
    if round_.status != Round.Status.CLOSED:
        raise ServiceError(_("Only a closed round that is not aggregated yet can be reopened."))
    if round_.study.rounds.filter(number__gt=round_.number).exists():
        raise ServiceError(_("A later round exists already."))
    runs = AggregationRun.objects.filter(round=round_)
    if runs.filter(status__in=[AggregationRun.Status.RUNNING, AggregationRun.Status.DONE]).exists():
        raise ServiceError(_("The aggregation of this round is under way; it cannot be reopened."))
    _future(closes_at, _("The new closing time"))
    # A queued aggregation task then finds its run superseded (and the round open) and does nothing.
    runs.filter(status__in=[AggregationRun.Status.PENDING, AggregationRun.Status.FAILED]).update(
        status=AggregationRun.Status.SUPERSEDED)
    before = {"status": round_.status, "closes_at": _iso(round_.closes_at)}
    round_.status = Round.Status.OPEN
    round_.closed_at = None
    round_.closes_at = closes_at
    round_.save(update_fields=["status", "closed_at", "closes_at"])
    AuditEvent.objects.create(study=round_.study, actor=actor, action="round_reopened", detail={
        "round": round_.number, "before": before,
        "after": {"status": round_.status, "closes_at": _iso(closes_at)}})
    return round_


@transaction.atomic
def snapshot_take(*, study: Study, live_number: int, actor) -> Round:
    """Take a dated snapshot of a Real-Time study's live round `live_number`; returns the new
    live round. A second click (or a replayed form) names a round already snapshotted and
    changes nothing."""
    live = Round.objects.select_for_update().filter(study=study, status=Round.Status.OPEN).first()
    if study.mode == Study.Mode.REALTIME and (live is None or live.number != live_number):
        raise ServiceError(_("This snapshot has been taken already; the dashboard shows the "
                             "current live round."))
    return live_snapshot(study=study, actor=actor)


def round_close_if_due(*, round_id: int, now: datetime | None = None) -> bool:
    """Close the round if it is still open and its deadline has passed (safe to run twice)."""
    now = now or timezone.now()
    with transaction.atomic():
        round_ = Round.objects.select_for_update().filter(
            pk=round_id, status=Round.Status.OPEN, closes_at__lte=now).first()
        if round_ is None:
            return False
        round_close(round_=round_, actor=None)
        AuditEvent.objects.create(study=round_.study, actor=None, action="round_closed_at_deadline",
                                  detail={"round": round_.number, "deadline": _iso(round_.closes_at)})
    return True


def round_open_if_due(*, round_id: int, now: datetime | None = None) -> bool:
    """Open a scheduled draft round once its opening time has come (safe to run twice)."""
    now = now or timezone.now()
    with transaction.atomic():
        round_ = Round.objects.select_for_update().filter(
            pk=round_id, status=Round.Status.DRAFT, opens_at__lte=now).first()
        if round_ is None:
            return False
        if round_.study.rounds.filter(status=Round.Status.OPEN).exists():
            return False
        closes_at = round_.closes_at if round_.closes_at and round_.closes_at > now else None
        if round_.number == 1:
            rules_lock(study=round_.study, actor=None)
        round_ = round_open(round_=round_, closes_at=closes_at, actor=None)
        round_open_notify(round_=round_, actor=None)
    return True


def rounds_due(*, now: datetime | None = None) -> tuple[list[int], list[int]]:
    """Ids of open rounds past their deadline and of draft rounds whose opening time has come."""
    now = now or timezone.now()
    closing = list(Round.objects.filter(status=Round.Status.OPEN, closes_at__lte=now)
                   .values_list("pk", flat=True))
    opening = list(Round.objects.filter(status=Round.Status.DRAFT, opens_at__lte=now)
                   .values_list("pk", flat=True))
    return closing, opening

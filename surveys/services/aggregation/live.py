"""Real-Time Delphi: live statistics on the open round, debounced, and dated snapshots.

A Real-Time study has one open ("live") round that experts revisit at any time. After a
submission commits, `live_schedule` creates a pending live run once at least the study's
`min_cell` experts have submitted (or revised) since the last live run was requested, and
unless one is already waiting; it enqueues it with a countdown of LIVE_DEBOUNCE_SECONDS: every
submission in that window joins the same recomputation, so a burst of 100 submissions costs a
handful of recomputes. The batch is what keeps one submission from being pinned to a moment:
the figures and the arguments experts see (the run's own copy of them) change only by k new
submissions at a time.
(On the embedded default, without a worker, the countdown cannot wait and each submission
recomputes at once.) `live_snapshot` takes a dated snapshot: it closes the live round (its
snapshot is then aggregated like any round, so stability is measured between snapshots) and
opens the next live round with every expert's answers carried forward.
"""

from __future__ import annotations

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Max
from django.utils import timezone
from django.utils.translation import gettext as _

from surveys.errors import ServiceError
from surveys.feedback import arguments_read
from surveys.models import (
    AggregationRun,
    Answer,
    AuditEvent,
    LiveArguments,
    Rationale,
    Response,
    ResponseRevision,
    Round,
    Study,
)
from surveys.services.aggregation.runs import (
    aggregation_request,
    compute,
    run_fail,
    snapshot_write,
)

Status = AggregationRun.Status
Kind = AggregationRun.Kind


def live_touch(*, round_: Round) -> None:
    """Call after saving an answer: once the save commits, the live statistics are refreshed."""
    if round_.study.mode != Study.Mode.REALTIME or round_.status != Round.Status.OPEN:
        return
    transaction.on_commit(lambda: live_schedule(round_id=round_.pk))


def live_schedule(*, round_id: int, batch: bool = True) -> AggregationRun | None:
    """Create and enqueue a pending live run unless one is already waiting (the debounce) or,
    with `batch`, fewer than the study's min_cell submissions came in since the last one."""
    from surveys.tasks import aggregate_live

    with transaction.atomic():
        round_ = Round.objects.select_for_update().select_related("study").filter(
            pk=round_id).first()
        if round_ is None or round_.status != Round.Status.OPEN:
            return None
        if round_.aggregation_runs.filter(kind=Kind.LIVE, status=Status.PENDING).exists():
            return None
        if batch and _new_submissions(round_) < round_.study.min_cell:
            return None
        version = (round_.aggregation_runs.aggregate(v=Max("version"))["v"] or 0) + 1
        run = AggregationRun.objects.create(round=round_, version=version, kind=Kind.LIVE)
        countdown = settings.LIVE_DEBOUNCE_SECONDS
        transaction.on_commit(lambda: aggregate_live.apply_async((run.pk,), countdown=countdown))
    return run


def _new_submissions(round_: Round) -> int:
    """How many experts submitted or revised since the last live run was requested (experts,
    not revisions: one expert revising three times must not publish a colleague's answer)."""
    last = (round_.aggregation_runs.filter(kind=Kind.LIVE).exclude(status=Status.FAILED)
            .order_by("-version").values_list("requested_at", flat=True).first())
    revisions = ResponseRevision.objects.filter(response__round=round_)
    if last is not None:
        revisions = revisions.filter(created_at__gt=last)
    return revisions.values("response_id").distinct().count()


def live_recompute(*, run_id: int) -> int:
    """Recompute the live round's statistics from its current answers (a pending run, once)."""
    claimed = AggregationRun.objects.filter(pk=run_id, status=Status.PENDING).update(
        status=Status.RUNNING, attempts=F("attempts") + 1, started_at=timezone.now())
    if not claimed:
        return 0
    run = AggregationRun.objects.select_related("round__study").get(pk=run_id)
    try:
        # Stored before the figures are published (read before the answers, so none appears
        # without the figures it counts in): a done run always has its arguments.
        arguments = arguments_read(run.round)
        LiveArguments.objects.update_or_create(
            run=run, defaults={"arguments": {str(k): v for k, v in arguments.items()}})
        return snapshot_write(run=run, rows=compute(run=run, round_=run.round))
    except Exception as error:
        run_fail(run=run, error=error)
        raise


@transaction.atomic
def live_snapshot(*, study: Study, actor=None) -> Round:
    """Take a dated snapshot of a Real-Time study; returns the new live round.

    The live round closes (its snapshot is aggregated as a round, version after its live
    versions) and the next round opens at once with the same items and every response,
    answer and rationale carried forward, so experts keep revising where they were.
    """
    if study.mode != Study.Mode.REALTIME:
        raise ServiceError(_("Only a Real-Time study takes snapshots; close the round instead."))
    live = Round.objects.select_for_update().filter(study=study, status=Round.Status.OPEN).first()
    if live is None:
        raise ServiceError(_("This study has no live round to take a snapshot of."))
    now = timezone.now()
    live.status, live.closed_at = Round.Status.CLOSED, now
    live.save(update_fields=["status", "closed_at"])
    nxt = Round.objects.create(study=study, number=live.number + 1, status=Round.Status.OPEN,
                               opens_at=now)
    nxt.items.set(live.items.all())
    _carry_forward(live, nxt)
    aggregation_request(round_=live, actor=actor)
    AuditEvent.objects.create(study=study, actor=actor, action="live_snapshot", detail={
        "round": live.number, "next": nxt.number, "at": now.isoformat()})
    # The new live round starts from the snapshot's answers, which the snapshot publishes in
    # full anyway: no batch to wait for.
    transaction.on_commit(lambda: live_schedule(round_id=nxt.pk, batch=False))
    return nxt


def _carry_forward(old: Round, new: Round) -> None:
    """Copy responses, answers and rationales to the new round in three INSERT ... SELECTs."""
    Response.objects.bulk_create([
        Response(round=new, expert_id=r.expert_id, status=r.status, submitted_at=r.submitted_at)
        for r in old.responses.only("expert_id", "status", "submitted_at")])
    response, answer, rationale = (m._meta.db_table for m in (Response, Answer, Rationale))
    pairs = (f"FROM {response} o JOIN {response} n ON n.expert_id = o.expert_id AND n.round_id = %s "
             f"JOIN {{table}} x ON x.response_id = o.id WHERE o.round_id = %s")
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {answer} (response_id, item_id, dimension, value, text, no_opinion) "  # noqa: S608
            f"SELECT n.id, x.item_id, x.dimension, x.value, x.text, x.no_opinion "
            + pairs.format(table=answer), [new.pk, old.pk])
        cursor.execute(
            f"INSERT INTO {rationale} (response_id, item_id, text) "  # noqa: S608
            f"SELECT n.id, x.item_id, x.text " + pairs.format(table=rationale), [new.pk, old.pk])

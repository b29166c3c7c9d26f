"""Aggregation runs: request a version of a round's snapshot, compute it, write it exactly once.

A run is keyed by (round, version) with a unique constraint. The computation happens outside
any transaction (so its progress is visible); the write is one transaction that locks the
round, re-checks the run and replaces the round's rows. A run already done, or older than
a run already done, writes nothing: a redelivered message (acks_late after a crash) or a
retry leaves exactly one snapshot.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from django.conf import settings
from django.db import transaction
from django.db.models import F, Max
from django.utils import timezone

from surveys.figures import rule_in_force
from surveys.models import (
    Aggregate,
    AggregationRun,
    AuditEvent,
    ExpertiseRating,
    Item,
    Round,
    Study,
)
from surveys.selectors import round_previous
from surveys.services.aggregation import statistics as stats
from surveys.services.aggregation.reading import rounds_reading
from surveys.services.bulk import rows_insert

Status = AggregationRun.Status
CLAIMABLE = [Status.PENDING, Status.RUNNING, Status.FAILED]


def aggregation_request(
    *, round_: Round, actor=None, kind: str = AggregationRun.Kind.ROUND, enqueue: bool = True
) -> AggregationRun:
    """Create the round's next run version and, once that commits, enqueue its task."""
    from surveys.tasks import aggregate_round

    with transaction.atomic():
        Round.objects.select_for_update().filter(pk=round_.pk).first()
        version = (round_.aggregation_runs.aggregate(v=Max("version"))["v"] or 0) + 1
        run = AggregationRun.objects.create(round=round_, version=version, kind=kind,
                                            requested_by=actor)
        if enqueue and kind == AggregationRun.Kind.ROUND:
            aggregate_round.delay_on_commit(round_.pk, version)
    return run


def round_aggregate(
    *, round_id: int, version: int | None = None, chunk_answers: int | None = None
) -> int:
    """Make sure version `version` (default: the latest requested) of the round's snapshot exists.

    Returns the rows of that snapshot (0 when the round is not closed, the run was superseded,
    or the run was handed to chunk tasks). Idempotent and safe to run concurrently.
    """
    round_ = Round.objects.select_related("study").filter(pk=round_id).first()
    if round_ is None or round_.status not in {Round.Status.CLOSED, Round.Status.AGGREGATED}:
        return 0
    run = _run_for(round_, version)
    if run is None:
        return 0
    if run.status == Status.DONE:
        return run.rows
    if not _claim(run):
        return run.rows if _refresh(run).status == Status.DONE else 0
    try:
        threshold = chunk_answers or settings.AGGREGATION_CHUNK_ANSWERS
        # An upper bound from two small counts first; the exact count only near the threshold.
        counts = _answer_counts(round_) if _most_answers(round_) > threshold else {}
        if sum(counts.values()) > threshold:
            from surveys.services.aggregation.chunks import chunks_dispatch

            chunks_dispatch(run=run, counts=counts, chunk_answers=threshold)
            return 0
        return snapshot_write(run=run, rows=compute(run=run, round_=round_))
    except Exception as error:
        run_fail(run=run, error=error)
        raise


def compute(
    *, run: AggregationRun, round_: Round, item_ids: list[int] | None = None
) -> list[dict]:
    """Read the round's answers (or some items') in bulk and compute their statistics."""
    whole = item_ids is None  # a chunk reports through its AggregationChunk row instead
    if whole:
        progress(run, "reading", 5)
    items = _item_specs(round_, item_ids)
    # In bulk, one query per round; of the previous round only what stability uses, read
    # while the round's own statistics are computed.
    with rounds_reading(round_=round_, previous=round_previous(round_),
                        item_ids=item_ids) as (frame, previous_frame):
        frame["weight"] = expertise_weights(frame, study=round_.study)
        if whole:
            progress(run, "computing", 30, answers=len(frame))
        rows = stats.item_statistics(frame, items=items, trusted=True)
        before = previous_frame()
    if before is not None:
        rows = stats.with_stability(rows, frame, before, items=items, trusted=True)
    if whole:
        progress(run, "writing", 80)
    return stats.records(rows)


def snapshot_write(*, run: AggregationRun, rows: list[dict]) -> int:
    """Replace the round's snapshot with this run's rows in one transaction, unless superseded."""
    started = run.started_at or timezone.now()
    with transaction.atomic():
        round_ = Round.objects.select_for_update().select_related("study").get(pk=run.round_id)
        run = AggregationRun.objects.select_for_update().get(pk=run.pk)
        if run.status == Status.DONE:
            return run.rows
        if _superseded(run) or (run.kind == AggregationRun.Kind.LIVE
                                and round_.status != Round.Status.OPEN):
            AggregationRun.objects.filter(pk=run.pk).update(status=Status.SUPERSEDED,
                                                            finished_at=timezone.now())
            return 0
        # The rules in force now, read under the round's lock, and stored with the verdicts.
        rule = rule_in_force(round_.study)
        frame, panel = stats.finish(pd.DataFrame(rows), rule=rule.as_dict(),
                                    stability_rule=rule.stability_dict())
        objects = _aggregates(run, round_, frame)
        Aggregate.objects.filter(round=round_).delete()
        rows_insert(Aggregate, objects)
        now = timezone.now()
        AggregationRun.objects.filter(pk=run.pk).update(
            status=Status.DONE, rows=len(objects), progress=100, phase="", finished_at=now,
            seconds=(now - started).total_seconds(), panel=panel, error="",
            rule=rule.snapshot(), rule_revision=rule.revision if rule.pk else None)
        if run.kind == AggregationRun.Kind.ROUND:
            round_.status = Round.Status.AGGREGATED
            round_.aggregated_at = now
            round_.save(update_fields=["status", "aggregated_at"])
            AuditEvent.objects.create(study=round_.study, action="round_aggregated", detail={
                "round": round_.number, "version": run.version, "rows": len(objects)})
            # The report reads this snapshot: render its pages now, not on the first visit.
            from surveys.tasks import report_prepare

            report_prepare.delay_on_commit(round_.pk)
    return len(objects)


def run_fail(*, run: AggregationRun, error: BaseException) -> None:
    """Record why a run stopped (e.g. its soft time limit); a later request may try again."""
    AggregationRun.objects.filter(pk=run.pk, status=Status.RUNNING).update(
        status=Status.FAILED, error=f"{type(error).__name__}: {error}"[:2000],
        finished_at=timezone.now())


def progress(run: AggregationRun, phase: str, percent: int, **fields: Any) -> None:
    """Report progress where the organizer's dashboard reads it (committed at once)."""
    AggregationRun.objects.filter(pk=run.pk, status=Status.RUNNING).update(
        phase=phase, progress=percent, **fields)


def expertise_weights(frame: pd.DataFrame, *, study: Study) -> np.ndarray:
    """Each answer's weight: its expert's self-rated expertise on the item's theme (NaN if none)."""
    if frame.empty:
        return np.empty(0)
    expert_ids, theme_ids, levels = _ratings(study)
    item_theme = dict(Item.objects.filter(study=study).values_list("code", "theme_id"))
    if not len(levels):
        return np.full(len(frame), np.nan)
    # (expert, theme) is unique, so the matrix holds each rating once; a few thousand labels
    # are built, not one per rating.
    expert_pks, rows_of = np.unique(expert_ids, return_inverse=True)
    theme_pks, cols_of = np.unique(theme_ids, return_inverse=True)
    matrix = np.full((len(expert_pks), len(theme_pks)), np.nan)
    matrix[rows_of, cols_of] = levels.astype("float64")
    experts = pd.Index([f"E{pk}" for pk in expert_pks.tolist()])
    rows = _positions(experts, frame["expert"])
    cols = _positions(pd.Index(theme_pks.tolist()), frame["item"], item_theme)
    known = (rows >= 0) & (cols >= 0)
    return np.where(known, matrix[np.maximum(rows, 0), np.maximum(cols, 0)], np.nan)


def _ratings(study: Study) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(expert ids, theme ids, levels) of the study's expertise ratings, read in bulk (COPY on
    PostgreSQL: a rating per expert and theme makes a hundred thousand rows in a large panel)."""
    from django.db import connection

    if connection.vendor == "postgresql":
        import io

        from pyarrow import csv

        from surveys.models import Expert
        from surveys.services.aggregation.reading import copy_out

        sql = (f"SELECT r.expert_id, r.theme_id, r.level FROM {ExpertiseRating._meta.db_table} r "  # noqa: S608
               f"JOIN {Expert._meta.db_table} e ON e.id = r.expert_id "
               f"WHERE e.study_id = {int(study.pk)}")  # COPY takes no parameters; an integer
        data = copy_out([f"COPY ({sql}) TO STDOUT (FORMAT csv)"])
        if not data:
            return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.int64)
        table = csv.read_csv(io.BytesIO(data), read_options=csv.ReadOptions(
            column_names=["expert", "theme", "level"]))
        return tuple(table.column(c).to_numpy().astype(np.int64)
                     for c in ("expert", "theme", "level"))
    rows = np.array(list(ExpertiseRating.objects.filter(expert__study=study).values_list(
        "expert_id", "theme_id", "level")), dtype=np.int64).reshape(-1, 3)
    return rows[:, 0], rows[:, 1], rows[:, 2]


def _positions(index: pd.Index, column: pd.Series, mapping: dict | None = None) -> np.ndarray:
    """index.get_indexer(column), or of the column's values mapped through `mapping`; each
    category is looked up once when the column is categorical."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        codes = column.cat.codes.to_numpy()
        categories = column.cat.categories
        if mapping is not None:
            categories = pd.Index([mapping.get(c) for c in categories], dtype=object)
        found = index.get_indexer(categories)
        return np.where(codes >= 0, found[codes], -1)
    return index.get_indexer(column if mapping is None else column.map(mapping))


# Helpers ------------------------------------------------------------------------------


def _run_for(round_: Round, version: int | None) -> AggregationRun | None:
    runs = round_.aggregation_runs.filter(kind=AggregationRun.Kind.ROUND)
    if version is not None:
        return runs.filter(version=version).first()
    latest = runs.order_by("-version").first()
    return latest or aggregation_request(round_=round_, enqueue=False)


def _claim(run: AggregationRun) -> bool:
    """Mark the run running (a conditional UPDATE), unless it is done or superseded."""
    if _superseded(run):
        AggregationRun.objects.filter(pk=run.pk, status__in=CLAIMABLE).update(
            status=Status.SUPERSEDED, finished_at=timezone.now())
        return False
    return bool(AggregationRun.objects.filter(pk=run.pk, status__in=CLAIMABLE).update(
        status=Status.RUNNING, attempts=F("attempts") + 1, started_at=timezone.now(),
        phase="starting", progress=0, error=""))


def _refresh(run: AggregationRun) -> AggregationRun:
    run.refresh_from_db()
    return run


def _superseded(run: AggregationRun) -> bool:
    return AggregationRun.objects.filter(round_id=run.round_id, version__gt=run.version,
                                         status=Status.DONE).exists()


def _most_answers(round_: Round) -> int:
    """At most this many answers: submitted responses x answer rows per full response."""
    from surveys.models import Response

    responses = round_.responses.filter(status=Response.Status.SUBMITTED).count()
    items = round_.items.exclude(kind=Item.Kind.OPEN).only("kind", "dimensions", "options")
    return responses * sum(len(item.answer_keys()) for item in items)


def _answer_counts(round_: Round) -> dict[int, int]:
    from django.db.models import Count

    from surveys.models import Answer, Response

    counts = (Answer.objects.filter(response__round=round_,
                                    response__status=Response.Status.SUBMITTED)
              .exclude(item__kind=Item.Kind.OPEN).values("item_id").annotate(n=Count("id")))
    return {row["item_id"]: row["n"] for row in counts}


def _item_specs(round_: Round, item_ids: list[int] | None) -> dict[str, stats.ItemSpec]:
    items = round_.items.exclude(kind=Item.Kind.OPEN)
    if item_ids is not None:
        items = items.filter(pk__in=item_ids)
    specs = {}
    for item in items:
        low, high = item.bounds() or (None, None)
        specs[item.code] = stats.ItemSpec(kind=item.kind, scale_min=low, scale_max=high)
    return specs


def _aggregates(run: AggregationRun, round_: Round, frame: pd.DataFrame) -> list[Aggregate]:
    items = dict(round_.items.values_list("code", "pk"))
    previous = round_previous(round_)
    before = {} if previous is None else {
        (i, d, g): m for i, d, g, m in Aggregate.objects.filter(round=previous).values_list(
            "item__code", "dimension", "group", "median")}
    objects = []
    for rec in stats.records(frame):
        key = (rec["item"], rec["dimension"], rec["group"])
        median, earlier = rec.get("median"), before.get(key)
        extra = {k: v for k, v in rec.items() if k not in {*stats.KEYS, *stats.FIELDS, "kind"}}
        objects.append(Aggregate(
            round=round_, run=run, item_id=items[rec["item"]], dimension=rec["dimension"],
            group=rec["group"], n=int(rec["n"] or 0), no_opinion=int(rec["no_opinion"] or 0),
            median=median, q1=rec.get("q1"), q3=rec.get("q3"), iqr=rec.get("iqr"),
            mean=rec.get("mean"), sd=rec.get("sd"), pct_agree=rec.get("pct_agree"),
            pct_disagree=rec.get("pct_disagree"), distribution=rec.get("distribution") or {},
            verdict=rec.get("verdict") or "", stable=rec.get("stable"),
            median_change=None if earlier is None or median is None else median - earlier,
            extra={k: v for k, v in extra.items() if v is not None},
        ))
    return objects

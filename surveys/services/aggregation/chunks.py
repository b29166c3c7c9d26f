"""The chunked path: a large round's items split across workers, then assembled once.

Above AGGREGATION_CHUNK_ANSWERS answers, the run's items are partitioned into chunks of about
that many answers, computed in parallel by a Celery group and stored as AggregationChunk
rows; the part that completes the set enqueues the assembly, which writes the snapshot
exactly as the single-task path does (the round-wide figures come from the assembled rows).
Every step is idempotent: a redelivered part or assembly finds its work done and does
nothing more.
"""

from __future__ import annotations

import math

from django.db import transaction

from surveys.models import AggregationChunk, AggregationRun
from surveys.services.aggregation.runs import compute, progress, run_fail, snapshot_write

Status = AggregationRun.Status


def partition(counts: dict[int, int], *, chunk_answers: int) -> list[list[int]]:
    """Split item ids into about total/chunk_answers parts of similar answer counts (greedy)."""
    parts = max(1, math.ceil(sum(counts.values()) / chunk_answers))
    bins: list[list[int]] = [[] for _ in range(min(parts, len(counts)) or 1)]
    loads = [0] * len(bins)
    for item_id, n in sorted(counts.items(), key=lambda pair: (-pair[1], pair[0])):
        k = loads.index(min(loads))
        bins[k].append(item_id)
        loads[k] += n
    return [sorted(b) for b in bins if b]


def chunks_dispatch(*, run: AggregationRun, counts: dict[int, int], chunk_answers: int) -> int:
    """Create the run's parts (once) and enqueue the unfinished ones as a Celery group."""
    from celery import group

    from surveys.tasks import aggregate_chunk

    with transaction.atomic():
        locked = AggregationRun.objects.select_for_update().get(pk=run.pk)
        if not locked.parts.exists():
            parts = partition(counts, chunk_answers=chunk_answers)
            AggregationChunk.objects.bulk_create([
                AggregationChunk(run=locked, index=k, items=items) for k, items in enumerate(parts)])
            AggregationRun.objects.filter(pk=run.pk).update(
                chunks=len(parts), chunks_done=0, answers=sum(counts.values()))
        todo = list(locked.parts.filter(done=False).values_list("index", flat=True))
        progress(run, "chunks", 10)
        signatures = group(aggregate_chunk.si(run.pk, k) for k in todo)
        transaction.on_commit(signatures.apply_async)
    if not todo:
        chunk_finished(run_id=run.pk)
    return len(todo)


def chunk_compute(*, run_id: int, index: int) -> None:
    """Compute one part of a chunked run and record it; the last part enqueues the assembly."""
    part = AggregationChunk.objects.select_related("run__round__study").get(run_id=run_id,
                                                                              index=index)
    run = part.run
    if not part.done and run.status == Status.RUNNING:
        try:
            rows = compute(run=run, round_=run.round, item_ids=part.items)
        except Exception as error:
            run_fail(run=run, error=error)
            raise
        with transaction.atomic():
            AggregationRun.objects.select_for_update().get(pk=run_id)
            flipped = AggregationChunk.objects.filter(pk=part.pk, done=False).update(
                done=True, result={"rows": rows})
            if flipped:
                done = run.parts.filter(done=True).count()
                AggregationRun.objects.filter(pk=run_id).update(
                    chunks_done=done, progress=10 + int(80 * done / max(run.chunks, 1)))
    chunk_finished(run_id=run_id)


def chunk_finished(*, run_id: int) -> None:
    """Enqueue the assembly once every part is done (a repeated call enqueues it again, harmlessly)."""
    from surveys.tasks import aggregate_assemble

    run = AggregationRun.objects.get(pk=run_id)
    if run.chunks and not run.parts.filter(done=False).exists() and run.status == Status.RUNNING:
        transaction.on_commit(lambda: aggregate_assemble.delay(run_id))


def run_assemble(*, run_id: int) -> int:
    """Write the snapshot from the finished parts (the same write as the single-task path)."""
    run = AggregationRun.objects.get(pk=run_id)
    if run.status == Status.DONE:
        return run.rows
    if run.parts.filter(done=False).exists():
        return 0
    rows = [row for part in run.parts.order_by("index") for row in part.result["rows"]]
    rows.sort(key=lambda r: (r["item"], r["dimension"], r["group"]))
    written = snapshot_write(run=run, rows=rows)
    AggregationChunk.objects.filter(run=run).update(result={})  # the rows now live in Aggregate
    return written

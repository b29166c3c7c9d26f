"""Benchmark of the aggregation: floor, full task and naive ORM loop, at two panel sizes.

    .venv/bin/python bench/aggregate.py                      # 1,000 and 10,000 experts x 100 items
    .venv/bin/python bench/aggregate.py --experts 1000 --items 20 --sizes 1000

Builds a simulated panel with two answered rounds (bench/aggregate_panel.py) in PostgreSQL
(--database or BENCH_DATABASE_URL, default agora_bench, recreated on each run). Then
measures, on round 2, each in a fresh process so that its peak memory is its own:

(a) floor: read the round's answers from PostgreSQL into pandas in one query (COPY at the
    libpq level, parsed by pyarrow) and compute per-item quartiles with one groupby;
(b) full: the aggregation task end to end (every statistic, the write, the run record), in
    one process; and (b') the chunked path, sent to a worker with two processes that compute
    two chunks of items in parallel (skipped with --broker '');
(c) naive: a per-item ORM loop (model instances, Python statistics, one save per row) on a
    sample of items, extrapolated to all items.

Prints wall seconds, the process's CPU seconds and peak memory (max RSS of the process) of
each, with the load average (the machine may be shared), and ends with
``full/floor: X  naive/full: Y  peak MB: Z  answers: N`` for the largest size.

With --survey-respondents N (e.g. 100000: 6.7 M answers), also an attitude survey's round
(mode "survey", --survey-items items, 60 by default: 67 answer rows per respondent; built by
bench/aggregate_panel.py's build_survey with COPY) answered by N respondents: (a) its floor
and (b) its aggregation task in one process (what a real survey's closed round runs, the
report pages it then enqueues left to their own worker), (b') chunked with a broker; it ends
with ``survey full/floor: X  peak MB: Z  answers: N  respondents: R``. --sizes '' measures the
survey alone:

    .venv/bin/python bench/aggregate.py --sizes '' --survey-respondents 100000 --broker ''
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from aggregate_panel import DEFAULT_DATABASE, ROOT, build, build_survey, setup_django  # noqa: E402


def measure_floor(round_id: int) -> dict:
    """(a) One query into pandas (streamed with COPY at the libpq level, parsed by pyarrow),
    one groupby for per-item quartiles."""
    import pandas as pd
    import pyarrow as pa
    from django.db import connection
    from pyarrow import csv

    from surveys.services.aggregation.reading import copy_out  # imported before the clock starts

    sql = ("SELECT a.item_id, a.dimension, CASE WHEN a.no_opinion THEN NULL ELSE a.value END "  # noqa: S608
           "FROM surveys_answer a JOIN surveys_response r ON r.id = a.response_id "
           f"WHERE r.round_id = {int(round_id)} AND r.status = 'submitted'")  # COPY takes no parameters
    connection.ensure_connection()
    started = time.perf_counter()
    if connection.vendor == "postgresql":
        data = copy_out([f"COPY ({sql}) TO STDOUT (FORMAT csv)"])
        frame = csv.read_csv(io.BytesIO(data), read_options=csv.ReadOptions(
            column_names=["item", "dimension", "value"]), convert_options=csv.ConvertOptions(
            column_types={"dimension": pa.string(), "value": pa.float64()},
            strings_can_be_null=False)).to_pandas()
    else:
        with connection.cursor() as cursor:
            cursor.execute(sql)
            frame = pd.DataFrame(cursor.fetchall(), columns=["item", "dimension", "value"])
    quartiles = frame.groupby(["item", "dimension"])["value"].quantile([0.25, 0.5, 0.75])
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "answers": len(frame),
            "quartiles": {"/".join(map(str, key)): float(q) for key, q in quartiles.items()}}


def measure_full(round_id: int) -> dict:
    """(b1) The aggregation task end to end in this one process (the single-task path)."""
    from pyarrow import csv  # noqa: F401 (imported before the clock starts, as in a warm worker)

    from surveys.models import AggregationRun, Round
    from surveys.services.aggregation import aggregation_request
    from surveys.tasks import aggregate_round

    run = aggregation_request(round_=Round.objects.get(pk=round_id), enqueue=False)
    started = time.perf_counter()
    rows = aggregate_round(round_id, run.version, chunk_answers=10**12)
    seconds = time.perf_counter() - started
    run = AggregationRun.objects.get(pk=run.pk)
    return {"seconds": seconds, "rows": rows, "answers": run.answers, "chunks": run.chunks,
            "snapshot": _snapshot_quartiles(round_id)}


def measure_aggregation(round_id: int) -> dict:
    """(b) for the survey: the aggregation task alone, in this process. The report pages it
    enqueues when it commits (report_prepare, a task of the reports queue that another worker
    runs) are not run here, as tasks in-process would."""
    from unittest import mock

    from surveys import tasks

    with mock.patch.object(tasks.report_prepare, "delay_on_commit"):
        return measure_full(round_id)


def measure_workers(round_id: int, broker: str, processes: int = 2) -> dict:
    """(b') The chunked path: the task sent to a worker with `processes` processes, the round
    split into `processes` chunks of items; timed until the snapshot is written. Peak memory
    is the largest of the worker processes'."""
    import uuid

    from celery import Celery
    from django.db import connection

    from config.queues import queue_name, queue_names
    from surveys.models import AggregationRun, Round
    from surveys.services.aggregation import aggregation_request

    prefix, base = f"agora-bench-{uuid.uuid4().hex[:8]}:", f"bench-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "CELERY_BROKER_URL": broker, "CELERY_BROKER_KEYPREFIX": prefix,
           "CELERY_TASK_DEFAULT_QUEUE": base, "DATABASE_URL": os.environ["DATABASE_URL"]}
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", ",".join(queue_names(base)),
         "--pool", "prefork", "--concurrency", str(processes), "--loglevel", "WARNING",
         "--without-gossip", "--without-mingle", "-n", f"{base}@%h"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    app = Celery("agora-bench", broker=broker, set_as_current=False)
    app.conf.broker_transport_options = {"global_keyprefix": prefix}
    try:
        deadline = time.monotonic() + 60
        while not app.control.ping(destination=[f"{base}@{os.uname().nodename}"], timeout=0.5):
            if time.monotonic() > deadline or worker.poll() is not None:
                raise RuntimeError("the benchmark worker did not start")
        run = aggregation_request(round_=Round.objects.get(pk=round_id), enqueue=False)
        answers = AggregationRun.objects.filter(round_id=round_id, status="done").values_list(
            "answers", flat=True).last()
        chunk_answers = -(-answers // processes) if answers else 10**12
        name = queue_name(base, "aggregation")
        from kombu import Exchange, Queue

        started = time.perf_counter()
        app.send_task("surveys.tasks.aggregate_round", args=[round_id, run.version, chunk_answers],
                      queue=Queue(name, Exchange(name, type="direct"), routing_key=name))
        while AggregationRun.objects.filter(pk=run.pk).values_list("status", flat=True)[0] != "done":
            time.sleep(0.02)
            connection.close_if_unusable_or_obsolete()
        seconds = time.perf_counter() - started
        peak = max(_peak_mb(pid) for pid in _children(worker.pid)) if _children(worker.pid) else 0
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        app.close()
    run = AggregationRun.objects.get(pk=run.pk)
    return {"seconds": seconds, "rows": run.rows, "answers": run.answers, "chunks": run.chunks,
            "peak_mb": peak, "processes": processes}


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _peak_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _snapshot_quartiles(round_id: int) -> dict:
    from surveys.models import Aggregate

    rows = Aggregate.objects.filter(round_id=round_id, group="").values_list(
        "item_id", "dimension", "q1", "median", "q3")
    return {f"{i}/{d}/{p}": value for i, d, *qs in rows
            for p, value in zip((0.25, 0.5, 0.75), qs, strict=True)}


def measure_naive(round_id: int, sample: int) -> dict:
    """(c) A per-item ORM loop on `sample` items, extrapolated to every item of the round."""
    import statistics
    from collections import defaultdict

    from django.db import transaction

    from surveys.models import Aggregate, Answer, Round

    round_ = Round.objects.get(pk=round_id)
    items = list(round_.items.exclude(kind="open").order_by("pk"))
    chosen = items[:: max(1, len(items) // sample)][:sample]
    started = time.perf_counter()
    with transaction.atomic():
        for item in chosen:
            values = defaultdict(list)
            answers = Answer.objects.filter(response__round=round_, response__status="submitted",
                                            item=item).select_related("response__expert__group")
            for answer in answers:
                if not answer.no_opinion and answer.value is not None:
                    for group in ("", answer.response.expert.group.code):
                        values[(answer.dimension, group)].append(answer.value)
            for (dimension, group), found in values.items():
                q1, median, q3 = statistics.quantiles(found, n=4, method="inclusive")
                Aggregate(round=round_, item=item, dimension=dimension, group=f"~{group}",
                          n=len(found), median=median, q1=q1, q3=q3, iqr=q3 - q1,
                          mean=statistics.fmean(found), sd=statistics.stdev(found),
                          pct_agree=100 * sum(v >= 4 for v in found) / len(found)).save()
        transaction.set_rollback(True)  # measured, not kept
    seconds = time.perf_counter() - started
    return {"seconds": seconds * len(items) / len(chosen), "sampled_items": len(chosen),
            "sample_seconds": seconds}


def _child(measure: str, round_id: int, sample: int) -> dict:
    """Run one measurement in a fresh process on this database; adds its peak memory (MB)."""
    out = subprocess.run(
        [sys.executable, __file__, "--measure", measure, "--round-id", str(round_id),
         "--sample", str(sample), "--database", os.environ["DATABASE_URL"]],
        capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_size(n_experts: int, n_items: int, sample: int, *, broker: str = "",
             in_process: bool = False) -> dict:
    """Build a panel of this size and measure (a), (b) and (c) on its round 2."""
    started = time.perf_counter()
    _, round2 = build(n_experts, n_items)
    load = time.perf_counter() - started
    measure = (lambda name: _measure(name, round2.pk, sample)) if in_process else (
        lambda name: _child(name, round2.pk, sample))
    result = {"experts": n_experts, "items": n_items, "load_seconds": load,
              "floor": measure("floor"), "full": measure("full"), "naive": measure("naive")}
    if broker:
        result["workers"] = measure_workers(round2.pk, broker)
    result["answers"] = result["floor"]["answers"]
    return result


def run_survey(n_respondents: int, n_items: int, *, broker: str = "",
               in_process: bool = False) -> dict:
    """Build an attitude survey of this size (build_survey) and measure (a) and (b) on its
    round, each in a fresh process, and (b') with a broker."""
    started = time.perf_counter()
    round_ = build_survey(n_respondents, n_items)
    load = time.perf_counter() - started
    measure = (lambda name: _measure(name, round_.pk, 0)) if in_process else (
        lambda name: _child(name, round_.pk, 0))
    result = {"respondents": n_respondents, "items": n_items, "load_seconds": load,
              "floor": measure("floor"), "full": measure("aggregation")}
    if broker:
        result["workers"] = measure_workers(round_.pk, broker)
    result["answers"] = result["floor"]["answers"]
    return result


def survey_line(result: dict) -> str:
    """The survey's closing line: (b) in one process against the floor, and the peak."""
    full, floor = result["full"]["seconds"], result["floor"]["seconds"]
    peak = max(result[k]["peak_mb"] for k in ("floor", "full", "workers") if k in result)
    return (f"survey full/floor: {full / floor:.2f}  peak MB: {peak:.0f}  "
            f"answers: {result['answers']}  respondents: {result['respondents']}")


def report_survey(result: dict) -> None:
    print(f"\nsurvey of {result['respondents']:,} respondents x {result['items']} items: "
          f"{result['answers']:,} answers (generated and loaded in {result['load_seconds']:.1f} s)")
    _report_lines(result, full="(b) aggregation task, single process")


def _measure(name: str, round_id: int, sample: int) -> dict:
    import pyarrow.csv  # noqa: F401 (imported before the clocks start, as in a warm worker)
    import scipy.special  # noqa: F401 (the rank tests import it on first use: half a second)

    import surveys.services.aggregation  # noqa: F401

    cpu = time.process_time()
    out = {"floor": lambda: measure_floor(round_id), "full": lambda: measure_full(round_id),
           "aggregation": lambda: measure_aggregation(round_id),
           "naive": lambda: measure_naive(round_id, sample)}[name]()
    # CPU seconds of this process (not PostgreSQL's): unlike wall time, unmoved by a busy machine.
    out["cpu"] = time.process_time() - cpu
    if name == "naive":
        out["cpu"] *= out["seconds"] / out["sample_seconds"]
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent process across exec.
    out["peak_mb"] = _peak_mb(os.getpid())
    return out


def summary_line(result: dict) -> str:
    """The closing line, for (b) in one process (the default path for a round of this size)."""
    full = result["full"]
    floor, naive = result["floor"]["seconds"], result["naive"]["seconds"]
    keys = ("floor", "full", "naive", "workers")
    peak = max(result[k]["peak_mb"] for k in keys if k in result)
    return (f"full/floor: {full['seconds'] / floor:.2f}  naive/full: {naive / full['seconds']:.1f}  "
            f"peak MB: {peak:.0f}  answers: {result['answers']}")


def report(result: dict) -> None:
    print(f"\n{result['experts']:,} experts x {result['items']} items: {result['answers']:,} answers "
          f"in round 2 (generated and loaded in {result['load_seconds']:.1f} s)")
    _report_lines(result)


def _report_lines(result: dict, full: str = "(b) full task, single process") -> None:
    lines = [("floor", "(a) floor: one query + one groupby"),
             ("full", full),
             ("workers", "(b') chunked: 2 chunks, 2-process worker"),
             ("naive", "(c) naive per-item ORM loop, extrapolated")]
    for key, label in lines:
        if key not in result:
            continue
        r = result[key]
        extra = (f"  ({r['sampled_items']} items took {r['sample_seconds']:.2f} s)" if key == "naive"
                 else f"  ({r['rows']} rows, {r['chunks'] or 'no'} chunks)" if "rows" in r else "")
        cpu = f"{r['cpu']:7.2f} s CPU" if "cpu" in r else " " * 13
        print(f"  {label:<44} {r['seconds']:8.2f} s {cpu}  peak {r['peak_mb']:6.0f} MB{extra}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE))
    parser.add_argument("--broker", default=os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/0"),
                        help="Redis for the worker measurement; '' to skip it")
    parser.add_argument("--sizes", default="1000,10000", help="panel sizes (experts), comma-separated")
    parser.add_argument("--items", type=int, default=100)
    parser.add_argument("--sample", type=int, default=5, help="items the naive loop really runs")
    parser.add_argument("--survey-respondents", type=int, default=0,
                        help="also an attitude survey of this many respondents (e.g. 100000); "
                             "0: none")
    parser.add_argument("--survey-items", type=int, default=60, help="the survey's items")
    parser.add_argument("--measure", choices=["floor", "full", "aggregation", "naive"],
                        help=argparse.SUPPRESS)
    parser.add_argument("--round-id", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    setup_django(args.database, fresh=not args.measure)
    if args.measure:
        print(json.dumps(_measure(args.measure, args.round_id, args.sample)))
        return
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    print("load average before: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    results = []
    for size in [int(s) for s in args.sizes.split(",") if s]:
        results.append(run_size(size, args.items, args.sample, broker=args.broker))
        report(results[-1])
    if len(results) > 1:
        small, large = results[0], results[-1]
        growth = large["full"]["seconds"] / small["full"]["seconds"]
        print(f"\nlinearity: {large['answers'] / small['answers']:.1f}x the answers took "
              f"{growth:.1f}x the time of (b), single process")
    survey = None
    if args.survey_respondents:
        survey = run_survey(args.survey_respondents, args.survey_items, broker=args.broker)
        report_survey(survey)
    print("load average after: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    if results:
        print(summary_line(results[-1]))
    if survey is not None:
        print(survey_line(survey))


if __name__ == "__main__":
    main()

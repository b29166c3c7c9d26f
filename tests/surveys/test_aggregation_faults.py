"""Faults with real workers on PostgreSQL + Redis: SIGKILL mid-task, and the soft time limit.

Each test starts its own `celery worker` processes on a Redis key prefix of its own
(CELERY_BROKER_KEYPREFIX), so their 2-second visibility timeout and 1-second redelivery
sweep never touch another run's messages. A worker started with a pause ("phase:seconds",
see tests/paused_worker.py) holds the task at a phase long enough to kill the worker there.
"""

import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from surveys.models import Aggregate, AggregationRun, AuditEvent, Round
from surveys.services.aggregation import aggregation_request
from surveys.services.panel import expert_create
from surveys.services.responses import ItemAnswer, response_submit
from surveys.services.rounds import round_create, round_open
from surveys.services.studies import study_load
from tests.conftest import ROOT, _database_url, need_service, on_postgres, small_study_data, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.worker, pytest.mark.django_db(transaction=True)]

TASK = "surveys.tasks.aggregate_round"


class Workers:
    """Worker processes and a producer sharing one private Redis key prefix and queue."""

    def __init__(self):
        from celery import Celery
        from kombu import Exchange, Queue

        from config.queues import queue_name

        self.prefix = f"agora-fault-{uuid.uuid4().hex[:8]}:"
        self.base = f"fault-{uuid.uuid4().hex[:8]}"
        name = queue_name(self.base, "aggregation")
        self.queue = Queue(name, Exchange(name, type="direct"), routing_key=name)
        # Not the current app: shared tasks elsewhere in the session keep the project's app.
        self.app = Celery("agora-fault-producer", broker=settings.CELERY_BROKER_URL,
                          set_as_current=False)
        self.app.conf.broker_transport_options = {"global_keyprefix": self.prefix}
        self.procs: list[subprocess.Popen] = []

    def start(self, label: str, *, pause: str = "", pool: str = "solo",
              limits: tuple[int, int] | None = None) -> tuple[subprocess.Popen, Path]:
        from config.queues import queue_names

        env = {**os.environ, "DATABASE_URL": _database_url(), "PYTHONUNBUFFERED": "1",
               "CELERY_TASK_DEFAULT_QUEUE": self.base, "CELERY_BROKER_KEYPREFIX": self.prefix,
               "CELERY_VISIBILITY_TIMEOUT": "2", "CELERY_RESTORE_INTERVAL": "1"}
        if limits:
            env |= {"AGGREGATION_SOFT_TIME_LIMIT": str(limits[0]),
                    "AGGREGATION_TIME_LIMIT": str(limits[1])}
        log_path = ROOT / "test-artifacts" / f"fault-worker-{label}.log"
        with open(log_path, "w") as log:
            proc = subprocess.Popen(
                [sys.executable, str(ROOT / "tests" / "paused_worker.py"), pause, "-A", "config", "worker",
                 "-Q", ",".join(queue_names(self.base)), "--pool", pool, "--concurrency", "1",
                 "--loglevel", "INFO", "--without-gossip", "--without-mingle",
                 "-n", f"{self.base}-{label}@%h"],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        self.procs.append(proc)
        node = f"{self.base}-{label}@{os.uname().nodename}"
        wait_for(lambda: proc.poll() is not None or self.app.control.ping(destination=[node],
                                                                           timeout=0.5),
                 timeout=60, what=f"worker {label} to answer a ping")
        assert proc.poll() is None, f"worker {label} exited; see {log_path}"
        return proc, log_path

    def send(self, *args) -> None:
        self.app.send_task(TASK, args=list(args), queue=self.queue)

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()
        import redis

        client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
        for key in client.scan_iter(match=f"{self.prefix}*"):  # only this test's own keys
            client.delete(key)
        client.close()
        self.app.close()


@pytest.fixture
def workers():
    need_service(bool(settings.CELERY_BROKER_URL) and settings.CELERY_BROKER_URL.startswith("redis"),
                 "Redis (the fault tests use its visibility timeout)")
    need_service(on_postgres(), "PostgreSQL")
    pool = Workers()
    yield pool
    pool.stop()


@pytest.fixture
def closed_round() -> tuple[Round, AggregationRun]:
    """A closed round of five answers whose version-1 run is requested but not enqueued."""
    study = study_load(data=small_study_data(f"fault-{uuid.uuid4().hex[:8]}"))
    round_ = round_open(round_=round_create(study=study))
    for k, (group, value) in enumerate(zip(["RU", "RU", "US", "US", "WE"], [1, 2, 4, 4, 5],
                                           strict=True)):
        expert = expert_create(study=study, name=f"F{k}", email=f"f{k}@example.org", group_code=group)
        response_submit(expert=expert, round_=round_, answers={"agree": ItemAnswer(values={"": value})})
    Round.objects.filter(pk=round_.pk).update(status=Round.Status.CLOSED, closed_at=timezone.now())
    return round_, aggregation_request(round_=round_, enqueue=False)


def assert_one_snapshot(round_: Round, run: AggregationRun) -> None:
    rows = Aggregate.objects.filter(round=round_)
    assert rows.count() == 4  # the agreement item: the panel and three groups, once each
    assert set(rows.values_list("run_id", flat=True)) == {run.pk}
    a = rows.get(item__code="agree", group="")
    assert (a.n, a.median, a.q1, a.q3) == (5, 4, 2, 4)  # sorted 1 2 4 4 5, R type 7
    assert AuditEvent.objects.filter(study=round_.study, action="round_aggregated").count() == 1


def run_state(run: AggregationRun) -> AggregationRun:
    run.refresh_from_db()
    return run


def test_a_worker_killed_while_computing_leaves_one_snapshot_after_redelivery(workers, closed_round):
    round_, run = closed_round
    first, _ = workers.start("first", pause="computing:60")
    workers.send(round_.pk, run.version)
    wait_for(lambda: run_state(run).phase == "computing", timeout=30,
             what="the first worker to reach the computing phase")

    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    assert run_state(run).status == "running" and not Aggregate.objects.filter(round=round_).exists()
    workers.start("second")  # the message returns once its visibility timeout runs out

    wait_for(lambda: run_state(run).status == "done", timeout=60,
             what="the redelivered aggregation to finish on the second worker")
    assert run_state(run).attempts == 2
    assert_one_snapshot(round_, run)


def test_a_worker_killed_after_writing_but_before_acking_adds_nothing(workers, closed_round):
    round_, run = closed_round
    first, _ = workers.start("first", pause="written:60")
    workers.send(round_.pk, run.version)
    wait_for(lambda: run_state(run).status == "done", timeout=30,
             what="the first worker to write the snapshot")

    first.send_signal(signal.SIGKILL)  # the message was never acknowledged
    first.wait(timeout=10)
    _, log = workers.start("second")

    wait_for(lambda: f"{TASK}[" in log.read_text() and "succeeded" in log.read_text(),
             timeout=60, what="the second worker to run the redelivered message")
    assert run_state(run).attempts == 1  # found done: not claimed, not computed again
    assert_one_snapshot(round_, run)


def test_the_soft_time_limit_stops_a_slow_aggregation_and_records_why(workers, closed_round):
    round_, run = closed_round
    workers.start("limited", pause="computing:30", pool="prefork", limits=(2, 10))

    workers.send(round_.pk, run.version)

    wait_for(lambda: run_state(run).status == "failed", timeout=30,
             what="the soft time limit to stop the aggregation")
    assert "SoftTimeLimitExceeded" in run_state(run).error
    assert not Aggregate.objects.filter(round=round_).exists()
    assert Round.objects.get(pk=round_.pk).status == Round.Status.CLOSED

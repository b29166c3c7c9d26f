"""The production stack on 127.0.0.1: settings that pass Django's deployment check, and gunicorn
with two Celery workers on PostgreSQL and Redis carrying 300 experts through three rounds.

The study part drives it as a deployment would: experts over HTTP, organizers closing rounds with
the management command (several studies at once), aggregation by whichever worker takes it.
"""

import fnmatch
import os
import secrets
import statistics
import subprocess
import sys
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from celery import Celery
from django.conf import settings

from config.queues import queue_name, queue_names, task_queues, task_routes
from surveys.models import Aggregate, Answer, AuditEvent, Rationale, Response, Round
from surveys.services.panel import expert_create, expert_issue_token
from surveys.services.rounds import round_create, round_open
from surveys.services.studies import study_load
from tests.conftest import _database_url, need_service, small_study_data, wait_for
from tests.processes import (
    ROOT,
    HttpExpert,
    expected_rows,
    organizers,
    production_env,
    start_gunicorn,
    start_worker,
    static_root,
    wait_for_workers,
)

__all__ = ["static_root"]  # a fixture, used by name

ENV_EXAMPLE = ROOT / "platform" / "env.example"


# Deployment settings ----------------------------------------------------------------------


def _example_env(**changes: str) -> dict[str, str]:
    values = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _eq, value = line.partition("=")
            values[name.strip()] = value.strip()
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("DJANGO_", "DATABASE_URL", "CELERY_"))}
    return clean | values | changes


def _keys() -> dict[str, str]:
    """The two secrets an operator fills in platform/env.example."""
    return {"DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "AGORA_PSEUDONYM_KEY": secrets.token_hex(32)}


def _check_deploy(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_the_example_environment_refuses_to_start_until_a_secret_key_is_set():
    result = _check_deploy(_example_env())

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set to at least 50 random characters" in result.stderr


def test_the_example_environment_with_a_secret_key_passes_the_deployment_check():
    result = _check_deploy(_example_env(**_keys()))

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_plain_http_fails_the_deployment_check_naming_what_is_missing():
    result = _check_deploy(_example_env(**_keys(), DJANGO_HTTPS="false"))

    assert result.returncode != 0
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert warning in result.stdout + result.stderr


@pytest.mark.parametrize("changes,message", [
    ({"DJANGO_DEBUG": "true"}, "DJANGO_DEBUG must be false"),
    ({"DJANGO_ALLOWED_HOSTS": ""}, "DJANGO_ALLOWED_HOSTS must name"),
    ({"DJANGO_SECRET_KEY": "django-insecure-" + "x" * 50}, "DJANGO_SECRET_KEY must be set"),
    ({"LOG_FORMAT": "xml"}, "LOG_FORMAT='xml' is invalid"),
])
def test_production_settings_refuse_unsafe_values(changes, message):
    result = _check_deploy(_example_env(**_keys()) | changes)

    assert result.returncode != 0
    assert message in result.stderr


@pytest.mark.parametrize("task,queue", [
    ("surveys.tasks.aggregate_round", "agora.aggregation"),
    ("surveys.tasks.aggregate_live", "agora.aggregation"),
    ("workspace.tasks.send_message", "agora.email"),
    ("surveys.tasks.report_render", "agora.reports"),
    ("surveys.tasks.report_prepare", "agora.reports"),
    ("workspace.tasks.due_work", "agora"),
])
def test_tasks_are_routed_to_the_queue_of_their_kind(task, queue):
    app = Celery("routing", set_as_current=False)
    app.conf.update(task_default_queue="agora", task_routes=task_routes("agora"),
                    task_queues=task_queues("agora"))

    assert app.amqp.router.route({}, task)["queue"].name == queue
    assert queue in queue_names("agora")


def test_every_route_pattern_matches_a_task_that_exists():
    from config.celery_app import app

    app.loader.import_default_modules()
    ours = [name for name in app.tasks if not name.startswith("celery.")]
    for pattern in task_routes("agora"):
        assert fnmatch.filter(ours, pattern), f"{pattern} routes no task (tasks: {sorted(ours)})"


# 300 experts, three rounds, two workers ---------------------------------------------------

STUDIES, EXPERTS_PER_STUDY, ROUNDS = 3, 100, 3
@pytest.fixture
def stack(static_root, django_db_blocker):
    """gunicorn and two Celery workers on the test database and a queue set of their own."""
    need_service(settings.CELERY_BROKER_URL.startswith("redis"), "Redis as the broker (CELERY_BROKER_URL)")
    queue = f"agora-stack-{uuid.uuid4().hex[:8]}"
    env = production_env(static_root, DATABASE_URL=_database_url(),
                         CELERY_BROKER_URL=settings.CELERY_BROKER_URL, CELERY_TASK_DEFAULT_QUEUE=queue)
    # As on two machines: one worker for every queue, one for aggregation only.
    workers = [start_worker("stack-worker-1", env),
               start_worker("stack-worker-2", env, queues=queue_name(queue, "aggregation"))]
    web, url = start_gunicorn("stack-web", env, workers=3)
    try:
        wait_for_workers(settings.CELERY_BROKER_URL, workers)
        yield url, env, web, workers
    finally:
        for proc in [web, *workers]:
            proc.stop()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_300_experts_answer_three_rounds_over_http_and_two_workers_share_the_aggregation(stack):
    url, env, web, workers = stack
    # Under load a worker may answer the health check's 1-second inspect late; ask again.
    wait_for(lambda: httpx.get(f"{url}/healthz", timeout=30).json()["checks"]["workers"]["detail"]
             == "ok: 2 worker(s)", timeout=60, what="/healthz to see both workers")
    tag = uuid.uuid4().hex[:6]
    studies = [study_load(data=small_study_data(f"stack-{tag}-{s}")) for s in range(STUDIES)]
    experts: list[HttpExpert] = []
    for study in studies:
        themes = list(study.themes.values_list("pk", flat=True))
        for k in range(EXPERTS_PER_STUDY):
            expert = expert_create(study=study, name=f"E{k}", email=f"e{k}@example.org",
                                   group_code=["RU", "US", "WE"][k % 3])
            experts.append(HttpExpert(url, study, k, expert_issue_token(expert=expert), themes))

    with ThreadPoolExecutor(max_workers=12) as pool:
        for r in range(1, ROUNDS + 1):
            for study in studies:
                round_open(round_=round_create(study=study))
            list(pool.map(lambda e, r=r: e.answer_round(r), experts))  # re-raises the first failure
            organizers(env, "close_round", studies)  # three aggregations queued at once
            wait_for(lambda r=r: Round.objects.filter(study__in=studies, number=r,
                                                      status=Round.Status.AGGREGATED).count() == STUDIES,
                     timeout=90, what=f"the workers to aggregate round {r} of every study")
    for expert in experts:
        expert.client.close()

    # Every answer stored once: exactly the rows each expert sent, per round, nothing more.
    stored: dict[tuple, set] = {}
    rows = Answer.objects.filter(response__round__study__in=studies).values_list(
        "response__round__study__slug", "response__expert__email", "response__round__number",
        "item__code", "dimension", "value", "text", "no_opinion")
    count = 0
    for slug, email, number, *row in rows:
        stored.setdefault((slug, email, number), set()).add(tuple(row))
        count += 1
    expected = {(e.study.slug, f"e{e.k}@example.org", r): expected_rows(e.k, r)
                for e in experts for r in range(1, ROUNDS + 1)}
    assert stored == expected
    assert count == sum(len(rows) for rows in expected.values())
    responses = Response.objects.filter(round__study__in=studies)
    assert responses.count() == len(experts) * ROUNDS
    assert responses.filter(status=Response.Status.SUBMITTED).count() == len(experts) * ROUNDS
    assert Rationale.objects.filter(response__round__study__in=studies).count() == ROUNDS * STUDIES * len(
        [k for k in range(EXPERTS_PER_STUDY) if k % 3 == 0])

    # Each round aggregated exactly once, with the panel's figures right.
    assert AuditEvent.objects.filter(study__in=studies, action="round_aggregated").count() == STUDIES * ROUNDS
    for r in range(1, ROUNDS + 1):
        values = [1 + (k + r) % 5 for k in range(EXPERTS_PER_STUDY) if k % 23 != 0]
        for study in studies:
            agg = Aggregate.objects.get(round__study=study, round__number=r, item__code="agree",
                                        dimension="", group="")
            assert (agg.n, agg.no_opinion, agg.median) == (
                len(values), EXPERTS_PER_STUDY - len(values), statistics.median(values))

    # The aggregation work was spread over both workers, each task done once; since worker 2
    # reads only the aggregation queue, that is also where closing a round sends the task.
    done = {w.name: [line for line in w.json_lines() if "aggregate_round[" in line["message"]
                     and "succeeded" in line["message"]] for w in workers}
    assert all(done.values()), {name: len(lines) for name, lines in done.items()}
    assert sum(len(lines) for lines in done.values()) == STUDIES * ROUNDS
    names = {line["task_name"] for lines in done.values() for line in lines}
    assert names == {"surveys.tasks.aggregate_round"}

    # The web log: JSON lines with request ids, and no invitation token anywhere.
    lines = web.json_lines()
    # Every line of the request log is JSON (gunicorn's own start/stop lines are plain text).
    assert not [line for line in web.text().splitlines()
                if "agora.request" in line and not line.startswith("{")]
    served = [line for line in lines if line["logger"] == "agora.request"]
    assert len(served) >= len(experts) * (3 * ROUNDS + 1)
    assert all(len(line["request_id"]) == 32 for line in served)
    logs = web.text() + "".join(w.text() for w in workers)
    assert not [e.token for e in experts if e.token in logs]
    assert not Path(ROOT / "celerybeat-schedule").exists()

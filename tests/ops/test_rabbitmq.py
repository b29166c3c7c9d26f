"""The platform runs the same on RabbitMQ: gunicorn and a Celery worker with an amqp:// broker."""

import os
import uuid
from urllib.parse import urlsplit

import httpx
import pytest
from kombu import Connection

from config.queues import queue_names
from surveys.models import Aggregate, Answer, Round
from surveys.services.panel import expert_create, expert_issue_token
from surveys.services.studies import study_load
from tests.conftest import _database_url, need_service, small_study_data, wait_for
from tests.processes import (
    HttpExpert,
    answers,
    expected_rows,
    organizers,
    production_env,
    start_gunicorn,
    start_worker,
    static_root,
    wait_for_workers,
)
from tests.workspace_helpers import register_rules

__all__ = ["static_root"]  # a fixture, used by name

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

RABBITMQ_URL = os.environ.get("RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672//")


@pytest.fixture
def rabbit_stack(static_root):
    """gunicorn and one worker on the test database, with RabbitMQ as the broker."""
    parts = urlsplit(RABBITMQ_URL)
    need_service(answers(parts.hostname or "127.0.0.1", parts.port or 5672), f"RabbitMQ at {parts.hostname}")
    queue = f"agora-rabbit-{uuid.uuid4().hex[:8]}"
    env = production_env(static_root, DATABASE_URL=_database_url(), CELERY_BROKER_URL=RABBITMQ_URL,
                         CELERY_TASK_DEFAULT_QUEUE=queue)
    worker = start_worker("rabbit-worker", env)
    web, url = start_gunicorn("rabbit-web", env, workers=2)
    try:
        wait_for_workers(RABBITMQ_URL, [worker])
        yield url, env, worker
    finally:
        web.stop()
        worker.stop()
        with Connection(RABBITMQ_URL) as conn:  # the test's queues would otherwise stay behind
            for name in queue_names(queue):
                conn.default_channel.queue_delete(name)


def test_on_rabbitmq_experts_answer_over_http_and_the_worker_aggregates(rabbit_stack):
    url, env, worker = rabbit_stack
    health = httpx.get(f"{url}/healthz", timeout=30)
    assert health.status_code == 200, health.text
    assert health.json()["checks"]["workers"]["detail"] == "ok: 1 worker(s)"

    study = study_load(data=small_study_data(f"rabbit-{uuid.uuid4().hex[:6]}"))
    themes = list(study.themes.values_list("pk", flat=True))
    experts = [HttpExpert(url, study, k, expert_issue_token(expert=expert_create(
        study=study, name=f"R{k}", email=f"r{k}@example.org", group_code=["RU", "US", "WE"][k % 3])), themes)
        for k in range(1, 9)]
    register_rules(study, None)  # round 1 opens only under registered rules
    organizers(env, "open_round", [study])
    for expert in experts:
        expert.answer_round(1)
        expert.client.close()
    organizers(env, "close_round", [study])

    wait_for(lambda: Round.objects.get(study=study, number=1).status == Round.Status.AGGREGATED,
             timeout=60, what="the worker on RabbitMQ to aggregate the round")
    for expert in experts:
        assert set(Answer.objects.filter(response__expert__study=study, response__expert__name=f"R{expert.k}")
                   .values_list("item__code", "dimension", "value", "text", "no_opinion")) == expected_rows(
            expert.k, 1)
    agree = Aggregate.objects.get(round__study=study, item__code="agree", dimension="", group="")
    assert (agree.n, agree.median) == (8, 3.5)  # 1 + (k + 1) % 5 for k = 1..8: 3 4 5 1 2 3 4 5
    assert any("aggregate_round[" in line["message"] and "succeeded" in line["message"]
               for line in worker.json_lines())

    worker.stop()
    down = httpx.get(f"{url}/healthz", timeout=30)
    assert down.status_code == 503
    assert down.json()["failed"] == ["workers"]

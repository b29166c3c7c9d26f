"""/livez and /healthz, the request id and the JSON request log, in-process and in gunicorn."""

import json
import uuid
from urllib.parse import urlsplit

import httpx
import pytest
from django.conf import settings

from tests.conftest import need_service
from tests.processes import answers, free_port, production_env, start_gunicorn, static_root

__all__ = ["static_root"]  # a fixture, used by name


@pytest.mark.django_db
def test_livez_answers_without_touching_the_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/livez")

    assert response.status_code == 200
    assert response.content == b"ok\n"


@pytest.mark.django_db(transaction=True)
def test_healthz_is_200_when_database_broker_and_workers_answer(client, celery_worker):
    response = client.get("/healthz")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "ok" and body["failed"] == []
    assert {name: check["ok"] for name, check in body["checks"].items()} == {
        "database": True, "broker": True, "workers": True}
    if settings.CELERY_BROKER_URL:
        assert body["checks"]["workers"]["detail"] == "ok: 1 worker(s)"
    else:
        assert body["checks"]["workers"]["detail"] == "ok: tasks run in-process"


@pytest.mark.django_db
def test_every_answer_carries_a_request_id_and_a_good_incoming_one_is_kept(client):
    made = client.get("/livez")["X-Request-ID"]
    kept = client.get("/livez", HTTP_X_REQUEST_ID="lb-7f3a9c01-22")["X-Request-ID"]
    replaced = client.get("/livez", HTTP_X_REQUEST_ID="bad id\nwith newline")["X-Request-ID"]

    assert len(made) == 32 and int(made, 16) >= 0
    assert kept == "lb-7f3a9c01-22"
    assert replaced != "bad id\nwith newline" and len(replaced) == 32


def _log_lines(text: str) -> list[dict]:
    lines = [line for line in text.splitlines() if line.strip()]
    parsed = [json.loads(line) for line in lines]  # every line is one JSON object
    assert parsed
    return parsed


def test_with_the_database_down_healthz_is_503_naming_it_and_logs_keep_tokens_out(static_root):
    dead = free_port()
    env = production_env(static_root, DATABASE_URL=f"postgres://nobody@127.0.0.1:{dead}/agora")
    web, url = start_gunicorn("healthz-db-down", env, workers=1)
    token = "tok" + uuid.uuid4().hex * 2
    try:
        health = httpx.get(f"{url}/healthz", timeout=30)
        link = httpx.get(f"{url}/e/{token}/", timeout=30)  # the view needs the database: a 500
        typo = httpx.get(f"{url}/e/{token}", timeout=30)   # no slash: never matched
    finally:
        web.stop()

    assert health.status_code == 503
    body = health.json()
    assert body["failed"] == ["database"]
    assert body["checks"]["database"]["detail"] == "error: OperationalError"
    assert body["checks"]["broker"]["ok"] and body["checks"]["workers"]["ok"]  # in-process Celery
    assert link.status_code == 500 and typo.status_code in {301, 404}

    text = web.text()
    assert token not in text
    lines = _log_lines(text)
    requests = {line["request_id"]: line for line in lines if line["logger"] == "agora.request"}
    assert requests[health.headers["X-Request-ID"]]["route"] == "/healthz"
    assert requests[health.headers["X-Request-ID"]]["status"] == 503
    assert requests[link.headers["X-Request-ID"]]["route"] == "/e/<str:token>/"
    errors = [line for line in lines if line["logger"] == "django.request" and line["level"] == "ERROR"]
    assert any(line["request_id"] == link.headers["X-Request-ID"] and "/e/[token]/" in line["message"]
               for line in errors), errors


def _redis_url() -> str:
    url = settings.CELERY_BROKER_URL if settings.CELERY_BROKER_URL.startswith("redis") else ""
    return url or "redis://127.0.0.1:6379/0"


def _redis_up() -> bool:
    parts = urlsplit(_redis_url())
    return answers(parts.hostname or "127.0.0.1", parts.port or 6379)


def test_with_the_broker_down_healthz_is_503_naming_it(static_root):
    env = production_env(static_root, CELERY_BROKER_URL=f"redis://127.0.0.1:{free_port()}/0")
    web, url = start_gunicorn("healthz-broker-down", env, workers=1)
    try:
        response = httpx.get(f"{url}/healthz", timeout=30)
    finally:
        web.stop()

    assert response.status_code == 503
    body = response.json()
    assert body["failed"] == ["broker", "workers"]
    assert body["checks"]["database"]["ok"]
    assert body["checks"]["broker"]["detail"].startswith("error: ")
    assert body["checks"]["workers"]["detail"] == "error: not checked, the broker is down"


def test_with_no_worker_on_its_queues_healthz_is_503_naming_the_queues(static_root):
    need_service(_redis_up(), "Redis on 127.0.0.1:6379")
    queue = f"agora-nobody-{uuid.uuid4().hex[:8]}"
    env = production_env(static_root, CELERY_BROKER_URL=_redis_url(), CELERY_TASK_DEFAULT_QUEUE=queue)
    web, url = start_gunicorn("healthz-no-worker", env, workers=1)
    try:
        response = httpx.get(f"{url}/healthz", timeout=30)
    finally:
        web.stop()

    assert response.status_code == 503
    body = response.json()
    assert body["failed"] == ["workers"]
    assert body["checks"]["workers"]["detail"] == (
        f"error: no worker consumes {queue}, {queue}.aggregation, {queue}.email, {queue}.reports")

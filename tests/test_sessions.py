"""Where an expert's session lives: in the database, and also in Redis when Redis is the cache
(one query less on each of the expert's requests); never in one process's memory, where another
web process would not see a session that ended."""

import uuid

import pytest
from django.core.cache import caches
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from surveys.services.panel import expert_create, expert_issue_token
from surveys.services.rounds import round_create, round_open
from surveys.services.studies import study_load
from tests.api.test_api_hardening import _production
from tests.conftest import need_service, small_study_data
from tests.processes import answers

REDIS = "redis://127.0.0.1:6379/0"
CACHED_DB = "django.contrib.sessions.backends.cached_db"


@pytest.mark.parametrize(("env", "engine"), [
    ({"CELERY_BROKER_URL": REDIS}, CACHED_DB),
    ({"CELERY_BROKER_URL": "amqp://guest@127.0.0.1:5672//"}, "django.contrib.sessions.backends.db"),
    ({"CELERY_BROKER_URL": "amqp://guest@127.0.0.1:5672//", "CACHE_URL": REDIS}, CACHED_DB),
])
def test_sessions_are_cached_only_in_a_shared_redis(env, engine):
    got = _production('{"engine": s.SESSION_ENGINE, "cache": s.CACHES["default"]["BACKEND"]}',
                      **{"CACHE_URL": "", **env})
    assert got["engine"] == engine
    assert got["cache"].endswith("RedisCache" if engine == CACHED_DB else "LocMemCache")


@pytest.fixture
def redis_sessions(settings):
    need_service(answers("127.0.0.1", 6379), "Redis on 127.0.0.1:6379")
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": REDIS, "KEY_PREFIX": f"agora-test-{uuid.uuid4().hex[:8]}"}}
    settings.SESSION_ENGINE = CACHED_DB
    yield caches["default"]
    caches["default"].clear()


@pytest.mark.django_db
def test_a_signed_in_expert_is_read_from_redis_and_survives_its_loss(redis_sessions):
    study = study_load(data=small_study_data("sessions"))
    round_open(round_=round_create(study=study))
    expert = expert_create(study=study, name="Ana", email="ana@example.org", group_code="RU",
                           language="en")
    client = Client()
    client.get(f"/e/{expert_issue_token(expert=expert)}/")
    client.get("/q/")

    with CaptureQueriesContext(connection) as queries:
        page = client.get("/q/")
    assert page.status_code == 200 and "English text" in page.content.decode()
    assert not [q for q in queries if "django_session" in q["sql"]]

    # Redis restarted or emptied: the session is read from the database and cached again.
    redis_sessions.clear()
    with CaptureQueriesContext(connection) as queries:
        page = client.get("/q/")
    assert page.status_code == 200 and "English text" in page.content.decode()
    assert len([q for q in queries if "django_session" in q["sql"]]) == 1
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/q/").status_code == 200
    assert not [q for q in queries if "django_session" in q["sql"]]

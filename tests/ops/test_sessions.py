"""Where an expert's session lives: in the database, and also in Redis when Redis is the cache
(one query less on each of the expert's requests, and the database alone while Redis is down);
never in one process's memory, where another web process would not see a session that ended.
With Redis down, links still open (the token rate limit counts nothing then)."""

import uuid

import pytest
from django.contrib.sessions.backends.cached_db import KEY_PREFIX
from django.core.cache import caches
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from surveys.models import Answer
from surveys.services.panel import expert_create, expert_issue_token
from surveys.services.rounds import round_create, round_open
from surveys.services.studies import study_load
from tests.api.test_api_hardening import _production
from tests.conftest import need_service, small_study_data
from tests.processes import answers, free_port

REDIS = "redis://127.0.0.1:6379/0"
CACHED_DB = "config.sessions"


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


def _redis(location: str) -> dict:
    """The caches as settings build them with Redis: the rate limit counts in the same Redis."""
    redis = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": location,
             "KEY_PREFIX": f"agora-test-{uuid.uuid4().hex[:8]}",
             "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2}}
    return {"default": redis, "ratelimit": redis}


@pytest.fixture
def signed_in(settings):
    """An expert of an open round signed in through the link, sessions in Redis (a database of
    its own, not the broker's); returns the client."""
    need_service(answers("127.0.0.1", 6379), "Redis on 127.0.0.1:6379")
    settings.CACHES = _redis("redis://127.0.0.1:6379/13")
    settings.SESSION_ENGINE = CACHED_DB
    client = Client()
    client.get(f"/e/{_link_token()}/")
    assert client.get("/q/").status_code == 200
    return client


def _link_token() -> str:
    """The personal link token of an expert of an open round."""
    study = study_load(data=small_study_data("sessions"))
    round_open(round_=round_create(study=study))
    expert = expert_create(study=study, name="Ana", email="ana@example.org", group_code="RU",
                           language="en")
    return expert_issue_token(expert=expert)


def _session_queries(client: Client, path: str = "/q/") -> int:
    with CaptureQueriesContext(connection) as queries:
        page = client.get(path)
    assert page.status_code == 200 and "English text" in page.content.decode()
    return len([q for q in queries if "django_session" in q["sql"]])


@pytest.mark.django_db
def test_a_signed_in_expert_is_read_from_redis_and_survives_its_loss(signed_in):
    assert _session_queries(signed_in) == 0

    # Redis restarted empty: the session is read from the database and cached again.
    caches["default"].delete(KEY_PREFIX + signed_in.cookies["sessionid"].value)
    assert _session_queries(signed_in) == 1
    assert _session_queries(signed_in) == 0


@pytest.mark.django_db
def test_with_redis_unreachable_a_signed_in_expert_goes_on_answering(signed_in, settings, caplog):
    settings.CACHES = _redis(f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there

    assert _session_queries(signed_in) == 1
    saved = signed_in.post("/q/autosave/", {"a-agree": "4", "version": "0"},
                           HTTP_HX_REQUEST="true")
    assert saved.status_code == 200 and "Saved" in saved.content.decode()
    assert Answer.objects.get(item__code="agree").value == 4
    assert "session cache unavailable" in caplog.text


@pytest.mark.django_db
def test_with_redis_unreachable_links_open_and_a_wrong_one_gets_its_page(settings, caplog):
    settings.CACHES = _redis(f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    settings.SESSION_ENGINE = CACHED_DB
    client = Client()

    opened = client.get(f"/e/{_link_token()}/")
    assert opened.status_code == 302 and _session_queries(client) == 1
    wrong = Client().get(f"/e/{'x' * 43}/")
    assert wrong.status_code == 404 and "This link is not valid" in wrong.content.decode()
    assert "rate-limit cache unavailable; a wrong token was not counted" in caplog.text

"""Settings come from the environment and a bad value stops the start, naming the variable."""

import os
import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_broker, env_database, env_int
from tests.conftest import ROOT


def _check(**env) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items()
             if k not in {"DATABASE_URL", "CELERY_BROKER_URL", "DJANGO_DEBUG"}}
    return subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, capture_output=True,
                          text=True, env={**clean, **env}, timeout=120)


@pytest.mark.parametrize("raw,expected", [("1", True), ("TRUE", True), ("yes", True),
                                          ("off", False), ("0", False), ("False", False)])
def test_booleans_accept_only_clear_words(monkeypatch, raw, expected):
    monkeypatch.setenv("FLAG", raw)
    assert env_bool("FLAG", not expected) is expected


def test_a_truthy_looking_string_is_not_a_boolean(monkeypatch):
    monkeypatch.setenv("FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="FLAG='maybe'"):
        env_bool("FLAG", False)


def test_integers_are_checked(monkeypatch):
    monkeypatch.setenv("N", "ten")
    with pytest.raises(ImproperlyConfigured, match="N='ten'.*integer"):
        env_int("N", 1)
    monkeypatch.setenv("N", "-3")
    with pytest.raises(ImproperlyConfigured, match=">= 0"):
        env_int("N", 1)


def test_without_database_url_the_embedded_sqlite_is_tuned_for_concurrent_writes(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    db = env_database("DATABASE_URL", "x.sqlite3")
    assert db["ENGINE"] == "django.db.backends.sqlite3"
    assert db["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert "journal_mode=WAL" in db["OPTIONS"]["init_command"]
    assert db["OPTIONS"]["timeout"] >= 5


def test_a_postgres_url_is_parsed(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://agora:s3cret@db.internal:6543/delphi")
    db = env_database("DATABASE_URL", "unused")
    assert (db["ENGINE"], db["NAME"], db["USER"], db["PASSWORD"], db["HOST"], db["PORT"]) == (
        "django.db.backends.postgresql", "delphi", "agora", "s3cret", "db.internal", "6543")


@pytest.mark.parametrize("url", ["mysql://x/y", "postgres://127.0.0.1:5432/", "postgres://h:port/d"])
def test_an_unusable_database_url_names_the_variable(monkeypatch, url):
    monkeypatch.setenv("DATABASE_URL", url)
    with pytest.raises(ImproperlyConfigured, match="DATABASE_URL"):
        env_database("DATABASE_URL", "unused")


def test_broker_urls_must_be_redis_or_amqp(monkeypatch):
    monkeypatch.setenv("CELERY_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//")
    assert env_broker("CELERY_BROKER_URL").startswith("amqp://")
    monkeypatch.setenv("CELERY_BROKER_URL", "http://127.0.0.1")
    with pytest.raises(ImproperlyConfigured, match="CELERY_BROKER_URL"):
        env_broker("CELERY_BROKER_URL")


def test_the_platform_refuses_to_start_with_a_bad_value_and_says_which():
    result = _check(DJANGO_DEBUG="maybe")
    assert result.returncode != 0
    assert "DJANGO_DEBUG='maybe' is invalid" in result.stderr


def test_the_platform_starts_with_nothing_set():
    result = _check()
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout

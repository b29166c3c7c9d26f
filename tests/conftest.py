"""Shared fixtures: named actors, a small study, and a Celery worker that is real with a broker.

On the embedded default (no CELERY_BROKER_URL) tasks run in-process. With a broker, the
`celery_worker` fixture starts a real `celery worker` process on the test database and a queue
of its own. REQUIRE_SERVICES=1 (CI) turns a missing service into a failure instead of a skip.
"""

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
# The essay the study comes from is not part of the product: tests that compare the study with
# it read it from AGORA_ESSAY_DIR, else from ../shared/seed beside the clone (as in CI).
SEED_DIR = Path(os.environ.get("AGORA_ESSAY_DIR") or ROOT.parent / "shared" / "seed")
REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES", "") == "1"
(ROOT / "test-artifacts").mkdir(exist_ok=True)


def need_service(available: bool, what: str) -> None:
    """Skip when a service is missing on a laptop; fail when CI requires it."""
    if available:
        return
    if REQUIRE_SERVICES:
        pytest.fail(f"{what} is required (REQUIRE_SERVICES=1) but not available")
    pytest.skip(f"{what} is not available")


def essay_paragraphs() -> list[str]:
    """The essay's non-empty lines (paragraph N of a study file is element N-1); skips the test
    with the reason when the essay is not beside the clone, fails instead under REQUIRE_SERVICES=1."""
    essays = [p for p in sorted(SEED_DIR.glob("*.txt"))
              if "Missile Defense" in p.read_text(encoding="utf-8")] if SEED_DIR.is_dir() else []
    need_service(bool(essays), f"the essay (a .txt file in AGORA_ESSAY_DIR or {SEED_DIR})")
    return [line for line in essays[0].read_text(encoding="utf-8").splitlines() if line.strip()]


def on_postgres() -> bool:
    return settings.DATABASES["default"]["ENGINE"].endswith("postgresql")


def pytest_collection_modifyitems(config, items):
    """PostgreSQL-only tests are deselected (not skipped) on SQLite: they run in CI's second pass."""
    if on_postgres():
        return
    kept = [item for item in items if item.get_closest_marker("postgres") is None]
    if len(kept) != len(items):
        config.hook.pytest_deselected(items=[i for i in items if i not in kept])
        items[:] = kept


def pytest_sessionfinish(session, exitstatus):
    """With REQUIRE_SERVICES=1 a skipped test is a failure: CI must not hide a missing service."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if REQUIRE_SERVICES and skipped and session.exitstatus == 0:
        reporter.write_line(f"REQUIRE_SERVICES=1: {len(skipped)} skipped test(s) count as failures")
        session.exitstatus = 1


@pytest.fixture(scope="session", autouse=True)
def celery_queue():
    """A queue name of this test session's own, so stale messages of other runs never mix in;
    the routed queues follow it (agora-test-xxxx.aggregation, ...; see config/queues.py)."""
    from config.celery_app import app
    from config.queues import task_queues, task_routes

    if not settings.CELERY_BROKER_URL:
        return None
    name = f"agora-test-{uuid.uuid4().hex[:8]}"
    app.conf.task_default_queue = name
    app.conf.task_routes = task_routes(name)
    app.conf.task_queues = task_queues(name)
    return name


@pytest.fixture(scope="session", autouse=True)
def _reports_dir(tmp_path_factory):
    """Reports kept in storage go to a directory of this session's own (a worker's too), never
    to the checkout's var/."""
    path = tmp_path_factory.mktemp("reports")
    os.environ["AGORA_REPORTS_DIR"] = str(path)
    settings.REPORTS_DIR = path
    return path


@pytest.fixture(autouse=True)
def _fresh_reports(_reports_dir):
    """Stored reports are named after round ids and snapshot versions, which come back after a
    rollback: each test starts with none."""
    import shutil

    shutil.rmtree(_reports_dir, ignore_errors=True)
    _reports_dir.mkdir()


@pytest.fixture(autouse=True)
def _english_after_each_test():
    """A Russian request leaves its language active in this thread; the next test starts in English."""
    yield
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)


def _commits(request) -> bool:
    """Whether the test's writes are committed (a transactional test or a live server)."""
    marker = request.node.get_closest_marker("django_db")
    return bool((marker is not None and marker.kwargs.get("transaction")) or any(
        name in request.fixturenames for name in ("transactional_db", "live_server")))


@pytest.fixture(autouse=True)
def _tasks_in_process_unless_committed(request):
    """A test inside a transaction that never commits hides its rows from a worker process,
    so its tasks run in-process; tests with committed data use the real worker."""
    from config.celery_app import app

    committed = _commits(request)
    saved = app.conf.task_always_eager
    app.conf.task_always_eager = saved or not committed
    yield
    app.conf.task_always_eager = saved


@pytest.fixture(autouse=True)
def _fresh_panel_feedback():
    """Database ids come back after a rollback, so the questionnaire's per-process caches (a
    round's items, its panel feedback, the items' markup) must not outlive the test that made them."""
    from surveys.feedback import caches_clear
    from surveys.item_html import item_statics_clear
    from surveys.selectors import round_items_cache_clear

    caches_clear()
    round_items_cache_clear()
    item_statics_clear()


@pytest.fixture(autouse=True)
def _fresh_rate_limits(monkeypatch):
    """Token rate-limit counters of this test's own (the cache may be a Redis shared by runs)."""
    import throttle.tokens

    monkeypatch.setattr(throttle.tokens, "NAMESPACE", uuid.uuid4().hex)


@pytest.fixture(scope="session", autouse=True)
def _copy_counted_like_any_statement():
    """On PostgreSQL new rows go in by COPY (surveys.services.bulk), through psycopg's cursor
    where Django does not log it: while queries are being counted (CaptureQueriesContext) a
    COPY is logged here like any statement, so the counts are the same on both databases."""
    if not on_postgres():
        yield
        return
    from contextlib import contextmanager

    import psycopg
    from django.db import connections

    original = psycopg.Cursor.copy

    @contextmanager
    def copy(cursor, statement, *args, **kwargs):
        started = time.monotonic()
        with original(cursor, statement, *args, **kwargs) as copying:
            yield copying
        for connection in connections.all(initialized_only=True):
            if connection.connection is cursor.connection and connection.queries_logged:
                connection.queries_log.append({"sql": f"{statement} -- {cursor.rowcount} rows",
                                               "time": f"{time.monotonic() - started:.3f}"})

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(psycopg.Cursor, "copy", copy)
        yield


def _database_url() -> str:
    db = settings.DATABASES["default"]
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    host = f"{auth}@" if auth else ""
    return f"postgres://{host}{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture(scope="session")
def celery_worker(django_db_setup, django_db_blocker, celery_queue, _reports_dir):
    """A real Celery worker process on the test database, or None when tasks run in-process."""
    if not settings.CELERY_BROKER_URL:
        yield None
        return
    need_service(on_postgres(), "PostgreSQL (a worker process cannot share an SQLite test DB)")
    from config.queues import queue_names

    env = {**os.environ, "DATABASE_URL": _database_url(), "PYTHONUNBUFFERED": "1",
           "CELERY_TASK_DEFAULT_QUEUE": celery_queue}
    log = open(ROOT / "test-artifacts" / "celery-worker.log", "w")  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", ",".join(queue_names(celery_queue)),
         "--pool", "solo", "--loglevel", "INFO", "--without-gossip", "--without-mingle",
         "-n", f"{celery_queue}@%h"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    from config.celery_app import app

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"the Celery worker exited with {proc.returncode}; see its log")
        if app.control.ping(destination=[f"{celery_queue}@{os.uname().nodename}"], timeout=1):
            break
    else:
        proc.kill()
        pytest.fail("the Celery worker did not answer a ping within 60 s")
    yield proc
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()




@pytest.fixture(autouse=True)
def _worker_idle_before_the_flush(request):
    """A test with the real worker ends only once the worker has finished the tasks the test
    queued: emptying the test database (TRUNCATE) while a task holds a row lock deadlocks.
    Every test that commits (its tasks go to the broker) waits so, whether or not it asked for
    the worker: the session's worker would otherwise run its tasks during the next flush."""
    if "celery_worker" not in request.fixturenames and not _commits(request):
        yield
        return
    request.getfixturevalue("_django_db_helper")  # set up first, so torn down after this
    worker = request.getfixturevalue("celery_worker")
    yield
    if worker is None:
        return
    from config.celery_app import app

    name = f"{request.getfixturevalue('celery_queue')}@{os.uname().nodename}"
    # What the test left queued (report pages, PDFs, notices) is dropped rather than waited for:
    # under a loaded CI machine it can take longer than the test itself. The task running now
    # is let finish; the loop ends once the worker is idle twice in a row.
    idle, deadline = 0, time.monotonic() + 180
    while idle < 2 and time.monotonic() < deadline:  # idle twice: a task may be just queued
        app.control.purge()
        inspect = app.control.inspect(destination=[name], timeout=1)
        active, reserved = inspect.active() or {}, inspect.reserved() or {}
        waiting = [t["id"] for tasks in reserved.values() for t in tasks]
        if waiting:
            app.control.revoke(waiting, destination=[name])
        busy = [t for tasks in active.values() for t in tasks] + waiting
        idle = 0 if busy else idle + 1
        time.sleep(0.2)
    if idle < 2:
        pytest.fail("the Celery worker was still busy 180 s after the test; the database "
                    "cannot be emptied safely")


def wait_for(predicate, *, timeout: float = 30.0, what: str = "the condition"):
    """Poll until predicate() is truthy (work done by another process), or fail."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.1)
    pytest.fail(f"timed out after {timeout} s waiting for {what}")


def small_study_data(slug: str = "small") -> dict:
    """A study file with one item of every kind, in two themes and three groups (and no
    `consensus` block: tests register the rules they need)."""
    text = {"en": "English text", "ru": "Русский текст"}
    return {
        "version": 1, "slug": slug, "title": {"en": "Small study", "ru": "Малое исследование"},
        "source": "Test source",
        "stakeholder_groups": [
            {"code": "RU", "name": {"en": "Russia", "ru": "Россия"}},
            {"code": "US", "name": {"en": "United States", "ru": "США"}},
            {"code": "WE", "name": {"en": "Western Europe", "ru": "Западная Европа"}},
        ],
        "themes": [
            {"code": "one", "title": {"en": "Theme one", "ru": "Тема один"}, "items": [
                {"code": "agree", "kind": "agreement", "text": text,
                 "source": {"paragraph": 3, "anchor": "some words"},
                 "leaning": {"RU": 2, "US": 4.5, "WE": 4}},
                {"code": "dims", "kind": "dimensions", "text": text,
                 "dimensions": ["desirability", "feasibility"]},
                {"code": "prob", "kind": "probability", "text": text},
            ]},
            {"code": "two", "title": {"en": "Theme two", "ru": "Тема два"}, "items": [
                {"code": "year", "kind": "year", "text": text, "min": 2011, "max": 2100},
                {"code": "rank", "kind": "ranking", "text": text, "options": [
                    {"code": "a", "text": {"en": "Option A", "ru": "Вариант А"}},
                    {"code": "b", "text": {"en": "Option B", "ru": "Вариант Б"}},
                    {"code": "c", "text": {"en": "Option C", "ru": "Вариант В"}},
                ]},
                {"code": "open", "kind": "open", "text": text},
            ]},
        ],
    }


@pytest.fixture
def study(db):
    from surveys.services.studies import study_load

    return study_load(data=small_study_data())


@pytest.fixture
def round1(study):
    from surveys.services.rounds import round_create, round_open

    return round_open(round_=round_create(study=study))


@pytest.fixture
def alice(study):
    """An expert in the Russian group."""
    from surveys.services.panel import expert_create

    return expert_create(study=study, name="Alice", email="alice@example.org", group_code="RU")


@pytest.fixture
def bob(study):
    """An expert in the US group, reading in Russian."""
    from surveys.services.panel import expert_create

    return expert_create(study=study, name="Bob", email="bob@example.org", group_code="US",
                         language="ru")


def _staff(study, username: str, role: str | None):
    from django.contrib.auth import get_user_model

    from surveys.services.panel import member_add

    user = get_user_model().objects.create_user(username=username, password=f"{username}-pw-123")
    if role:
        member_add(study=study, user=user, role=role)
    return user


@pytest.fixture
def organizer(study):
    return _staff(study, "olga", "organizer")


@pytest.fixture
def analyst(study):
    return _staff(study, "anna", "analyst")


@pytest.fixture
def outsider(study):
    """A staff user with no role in the study."""
    return _staff(study, "oscar", None)

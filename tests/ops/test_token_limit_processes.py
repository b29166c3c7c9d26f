"""The token rate limit on the embedded default (no Redis) is one limit for every web process:
gunicorn with two workers answers 429 after TOKEN_RATE_LIMIT wrong links from one address, not
after twice as many."""

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.conftest import ROOT
from tests.processes import start_gunicorn

LIMIT = 10


def _embedded_env(tmp_path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DJANGO_", "AGORA_", "DATABASE_URL", "CELERY_", "CACHE_URL"))}
    return env | {"DJANGO_SETTINGS_MODULE": "config.settings.base", "LOG_LEVEL": "WARNING",
                  "AGORA_SQLITE_PATH": str(tmp_path / "db.sqlite3"),
                  "AGORA_DATA_DIR": str(tmp_path / "var"), "TOKEN_RATE_LIMIT": str(LIMIT),
                  "TOKEN_RATE_WINDOW": "300", "PYTHONUNBUFFERED": "1"}


def test_two_gunicorn_workers_share_one_token_limit_on_the_embedded_default(tmp_path):
    env = _embedded_env(tmp_path)
    migrated = subprocess.run([sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"],
                              cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert migrated.returncode == 0, migrated.stderr
    web, url = start_gunicorn("token-limit-embedded", env, workers=2)
    try:
        def attempt(n: int) -> int:
            # A connection of its own each time, so both workers take attempts.
            with httpx.Client(base_url=url, timeout=30) as client:
                return client.get(f"/e/wrong-{n:03d}/", headers={"Connection": "close"}).status_code

        with ThreadPoolExecutor(max_workers=2) as pool:
            codes = list(pool.map(attempt, range(6 * LIMIT)))
    finally:
        web.stop()
    assert set(codes) == {404, 429}
    # Two attempts in flight at once may both pass the check before either is counted: one extra
    # at most. Counted per process, the two workers would let about 2 x LIMIT through.
    assert LIMIT <= codes.count(404) <= LIMIT + 1, codes

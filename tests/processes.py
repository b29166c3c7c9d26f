"""Real processes for the production-stack tests: gunicorn and Celery workers on 127.0.0.1.

Each runs with config.settings.production (plain HTTP on loopback: DJANGO_HTTPS=false) and
logs to test-artifacts/, where CI keeps what they printed.
"""

import json
import os
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from celery import Celery

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
_INHERITED_OUT = ("DATABASE_URL", "CELERY_BROKER_URL", "CELERY_TASK_DEFAULT_QUEUE", "DJANGO_")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def answers(host: str, port: int) -> bool:
    """Whether something accepts TCP connections there (a service is up)."""
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def production_env(static_root: Path, **values: str) -> dict[str, str]:
    """The environment of a production-settings process: this one's, minus our own settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_INHERITED_OUT)}
    return env | {
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_HTTPS": "false",
        "DJANGO_STATIC_ROOT": str(static_root),
        "LOG_FORMAT": "json",
        "PYTHONUNBUFFERED": "1",
    } | values


def collectstatic(static_root: Path) -> None:
    result = subprocess.run([sys.executable, "manage.py", "collectstatic", "--no-input", "-v", "0"],
                            cwd=ROOT, env=production_env(static_root), capture_output=True, text=True,
                            timeout=180)
    assert result.returncode == 0, result.stderr


class Process:
    """A child process whose output goes to a log file in test-artifacts/."""

    def __init__(self, name: str, args: list[str], env: dict[str, str]):
        self.name = name
        self.log_path = ARTIFACTS / f"{name}.log"
        self._log = open(self.log_path, "w")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=self._log,
                                     stderr=subprocess.STDOUT, start_new_session=True)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> None:
        if self.alive():
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self._log.close()

    def text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def json_lines(self) -> list[dict]:
        """Every log line that is a JSON object (worker banners are plain text)."""
        return [json.loads(line) for line in self.text().splitlines() if line.startswith("{")]


def start_gunicorn(name: str, env: dict[str, str], *, workers: int = 2) -> tuple[Process, str]:
    """gunicorn as platform/Procfile runs it, on a free port; returns it and its base URL."""
    port = free_port()
    web = Process(name, [sys.executable, "-m", "gunicorn", "-c", "platform/gunicorn.conf.py",
                         "config.wsgi"], env | {"PORT": str(port), "WEB_CONCURRENCY": str(workers)})
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if not web.alive():
            pytest.fail(f"gunicorn exited with {web.proc.returncode}:\n{web.text()[-3000:]}")
        try:
            if httpx.get(f"{url}/livez", timeout=2).status_code == 200:
                return web, url
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    web.stop()
    pytest.fail("gunicorn did not answer /livez within 60 s")


def start_worker(name: str, env: dict[str, str], *, concurrency: int = 1) -> Process:
    """A Celery worker as platform/Procfile runs it (all the queues), named name@<host>."""
    return Process(name, [sys.executable, "-m", "celery", "-A", "config", "worker",
                          "--hostname", f"{name}@%h", "--concurrency", str(concurrency),
                          "--loglevel", "INFO"], env)


def wait_for_workers(broker_url: str, workers: list[Process], timeout: float = 60) -> None:
    """Until every worker answers a ping through the broker."""
    names = [f"{w.name}@{socket.gethostname()}" for w in workers]
    app = Celery(broker=broker_url)
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for worker in workers:
                if not worker.alive():
                    pytest.fail(f"worker {worker.name} exited:\n{worker.text()[-3000:]}")
            replies = app.control.ping(destination=names, timeout=1) or []
            if {name for reply in replies for name in reply} >= set(names):
                return
        pytest.fail(f"workers {names} did not all answer a ping within {timeout} s")
    finally:
        app.close()


@pytest.fixture(scope="session")
def static_root(tmp_path_factory) -> Path:
    """collectstatic once per session, as a deployment does before starting gunicorn."""
    root = tmp_path_factory.mktemp("static")
    collectstatic(root)
    return root

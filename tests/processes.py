"""Real processes for the production-stack tests: gunicorn and Celery workers on 127.0.0.1.

Each runs with config.settings.production (plain HTTP on loopback: DJANGO_HTTPS=false) and
logs to test-artifacts/, where CI keeps what they printed.
"""

import json
import logging
import os
import re
import secrets
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest
from celery import Celery

ROOT = Path(__file__).resolve().parent.parent
logging.getLogger("httpx").setLevel(logging.WARNING)  # its INFO lines would print personal links
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
        "AGORA_PSEUDONYM_KEY": secrets.token_hex(32),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_HTTPS": "false",
        "DJANGO_STATIC_ROOT": str(static_root),
        "DJANGO_STATIC_COMPRESS": "false",
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
        # A line still being written when the file is read has no closing brace yet.
        return [json.loads(line) for line in self.text().splitlines()
                if line.startswith("{") and line.endswith("}")]


def start_gunicorn(name: str, env: dict[str, str], *, workers: int = 2) -> tuple[Process, str]:
    """gunicorn as platform/Procfile runs it, on a free port; returns it and its base URL."""
    port = free_port()
    web = Process(name, [sys.executable, "-m", "gunicorn", "-c", "platform/gunicorn.conf.py",
                         "config.wsgi"], env | {"PORT": str(port), "WEB_CONCURRENCY": str(workers)})
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
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
    pytest.fail("gunicorn did not answer /livez within 120 s")


def start_worker(name: str, env: dict[str, str], *, concurrency: int = 1, queues: str = "") -> Process:
    """A Celery worker as platform/Procfile runs it (all queues unless told); its node name is
    unique, since other test runs on the machine may share the broker."""
    node = f"{name}-{uuid.uuid4().hex[:6]}@{socket.gethostname()}"
    worker = Process(name, [sys.executable, "-m", "celery", "-A", "config", "worker",
                            "--hostname", node, "--concurrency", str(concurrency),
                            *(["--queues", queues] if queues else [])], env)
    worker.node = node
    return worker


def wait_for_workers(broker_url: str, workers: list[Process], timeout: float = 60) -> None:
    """Until every worker answers a ping through the broker."""
    names = [w.node for w in workers]
    # Celery prefers the CELERY_BROKER_URL variable to any app's own setting: set it meanwhile.
    saved = os.environ.get("CELERY_BROKER_URL")
    os.environ["CELERY_BROKER_URL"] = broker_url
    app = Celery(set_as_current=False)
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
        if saved is None:
            os.environ.pop("CELERY_BROKER_URL")
        else:
            os.environ["CELERY_BROKER_URL"] = saved


@pytest.fixture(scope="session")
def static_root(tmp_path_factory) -> Path:
    """collectstatic once per session, as a deployment does before starting gunicorn."""
    root = tmp_path_factory.mktemp("static")
    collectstatic(root)
    return root


def organizers(env: dict[str, str], command: str, studies) -> None:
    """Run an organizer's command for every study at the same time, as several organizers would."""
    procs = [subprocess.Popen([sys.executable, "manage.py", command, "--study", study.slug], cwd=ROOT,
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for study in studies]
    for proc in procs:
        out, _ = proc.communicate(timeout=120)
        assert proc.returncode == 0, out


# Experts answering over HTTP ----------------------------------------------------------------

RANKS = [("1", "2", "3"), ("1", "3", "2"), ("2", "1", "3"), ("2", "3", "1"), ("3", "1", "2"), ("3", "2", "1")]


def answer_fields(k: int, r: int, themes: list[int]) -> tuple[dict, dict]:
    """Expert k's answers in round r: what the draft save sends, and what the submit adds."""
    save = {"a-dims.desirability": str(1 + (3 * k + r) % 5), "a-dims.feasibility": str(1 + (k + 2 * r) % 5)}
    if k % 23 == 0:
        save["a-agree.none"] = "1"
    else:
        save["a-agree"] = str(1 + (k + r) % 5)
    if k % 3 == 0:
        save["a-agree.why"] = f"reason of expert {k} in round {r}"
    a, b, c = RANKS[(k + r) % 6]
    submit = {"a-prob": str((7 * k + 11 * r) % 101), "a-year": str(2011 + (5 * k + r) % 90),
              "a-rank.a": a, "a-rank.b": b, "a-rank.c": c, "a-open.text": f"idea {k}/{r}"}
    if r == 1:
        submit |= {f"x-{theme}": str(1 + (k + theme) % 5) for theme in themes}
    return save, submit


def expected_rows(k: int, r: int) -> set[tuple]:
    """The rows (item, dimension, value, text, no_opinion) that expert k's round r leaves stored."""
    save, submit = answer_fields(k, r, [])
    rows = {("dims", dim, float(save[f"a-dims.{dim}"]), "", False) for dim in ("desirability", "feasibility")}
    agree = ("agree", "", None, "", True) if k % 23 == 0 else ("agree", "", float(save["a-agree"]), "", False)
    rows |= {agree, ("prob", "", float(submit["a-prob"]), "", False),
             ("year", "", float(submit["a-year"]), "", False),
             ("open", "", None, submit["a-open.text"], False)}
    rows |= {("rank", code, float(submit[f"a-rank.{code}"]), "", False) for code in "abc"}
    return rows


def _version(html: str) -> str:
    return re.search(r'name="version"[^>]*value="(\d+)"', html).group(1)


class HttpExpert:
    """Expert k of a study, answering in a browser-like HTTP client that keeps its cookies."""

    def __init__(self, url: str, study, k: int, token: str, themes: list[int]):
        self.client = httpx.Client(base_url=url, timeout=60)
        self.study, self.k, self.token, self.themes = study, k, token, themes

    def answer_round(self, r: int) -> None:
        """Open the questionnaire, autosave some answers, then submit the rest."""
        if r == 1:
            entry = self.client.get(f"/e/{self.token}/")
            assert entry.status_code == 302 and entry.headers["location"] == "/q/", entry.text
        page = self.client.get("/q/")
        assert page.status_code == 200, page.text
        csrf = {"csrfmiddlewaretoken": self.client.cookies["csrftoken"]}
        save, submit = answer_fields(self.k, r, self.themes)
        saved = self.client.post("/q/autosave/", data=csrf | save | {"version": _version(page.text)},
                                 headers={"HX-Request": "true"})
        assert saved.status_code == 200 and 'class="saved"' in saved.text, saved.text[-2000:]
        submit |= {"action": "submit", "version": _version(saved.text)}
        done = self.client.post("/q/", data=csrf | submit)
        assert done.status_code == 302 and "submitted=1" in done.headers["location"], done.text[-2000:]

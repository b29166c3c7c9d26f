"""Load figures for the expert's web path on the production-like stack (not a test).

    .venv/bin/python bench/load.py     # 20 users per step alone (30 s), then 200 experts twice

Brings up, on 127.0.0.1 and a database of its own (recreated: its name must contain "bench"),
the stack `make serve` runs (production settings, gunicorn with platform/gunicorn.conf.py, a
Celery worker), loads the essay study, lets the simulated panel answer round 1 and opens round 2
(so every page shows the panel's feedback). Each expert gets a signed-in session, as opening
the personal link does. Then Locust (bench/locustfile.py) measures each step on its own, with
--saturate users back to back (the throughput: more users than gunicorn workers only add
queueing), and then the whole flow of --experts experts pausing --think seconds between steps
(open, five autosaves, submit, again): the latency at that many concurrent experts. The experts
arrive over --ramp seconds and are measured for --flow-seconds once all are there; the flow
runs twice, with 2-6 s between steps (a panel clicking through as fast as it can) and with
10-30 s (an expert reading a proposition, the panel's feedback and deciding).

    trivial    GET /livez: a Django view that does nothing (the ceiling of this stack)
    open       GET /q/, the questionnaire with all 58 items and their feedback
    autosave   POST /q/autosave/ with one item, as the page's htmx does on each change
    submit     POST /q/ with every item

At the end it compares the database with what the server acknowledged to the clients: no
answer lost, none duplicated. Every run is bounded in time; all traffic stays on 127.0.0.1.
"""

import argparse
import csv
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # Django's settings and our apps, when run as bench/load.py
STUDY_FILE = ROOT / "surveys" / "studies" / "trenin_2011.yaml"
STEPS = ("trivial", "open", "autosave", "submit")
FLOORS = ("session", "write")  # bench/floor_urls.py, with --floors


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/agora_loadbench")
    parser.add_argument("--broker-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--experts", type=int, default=200, help="experts in the paced flow")
    parser.add_argument("--saturate", type=int, default=20,
                        help="users back to back when a step is measured alone (its throughput)")
    parser.add_argument("--seconds", type=int, default=30, help="each step on its own")
    parser.add_argument("--flow-seconds", type=int, default=60, help="the paced flow")
    parser.add_argument("--think", action="append",
                        help="seconds between an expert's steps in the flow, as low,high; repeat "
                             "for several flows (default: 2,6 and then 10,30)")
    parser.add_argument("--ramp", type=int, default=30,
                        help="seconds over which the flow's experts arrive; measured after that")
    parser.add_argument("--floors", action="store_true",
                        help="also measure the floors of bench/floor_urls.py after the trivial view: "
                             "a view that only reads the session, and one that also writes a row")
    parser.add_argument("--steps", default=",".join(STEPS),
                        help="the steps measured alone, comma-separated (default: all)")
    parser.add_argument("--flows", action=argparse.BooleanOptionalAction, default=True,
                        help="run the paced flows after the steps (default: yes)")
    parser.add_argument("--web-workers", type=int, default=2 * (os.cpu_count() or 1) + 1)
    parser.add_argument("--out", default=str(ROOT / "test-artifacts" / "bench"))
    return parser.parse_args()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _recreate_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    if "bench" not in name:
        sys.exit(f"refusing to recreate database {name!r}: its name must contain 'bench'")
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def _prepare(args, env: dict[str, str], data_path: Path) -> None:
    """Migrate, collect static files, load the study, answer round 1 with the simulated panel."""
    for command in (["migrate", "--no-input", "-v", "0"], ["collectstatic", "--no-input", "-v", "0"]):
        subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, env=env, check=True)
    os.environ.update(env)
    import django

    django.setup()
    from surveys.models import Item

    study = essay_round_1_answered(args.experts)
    items = [{"code": i.code, "kind": i.kind, "keys": i.answer_keys(),
              "low": (i.bounds() or (0, 0))[0], "high": (i.bounds() or (0, 0))[1]}
             for i in Item.objects.filter(study=study)]
    data_path.write_text(json.dumps({"experts": [], "items": items}))


def essay_round_1_answered(experts: int):
    """Load the essay study (Django set up) and let `experts` simulated experts submit round 1;
    returns the study. bench/expert_costs.py builds its study with this too."""
    from surveys.services.rounds import round_create, round_open
    from surveys.services.simulation import panel_simulate
    from surveys.services.studies import study_file_read, study_load

    study = study_load(data=study_file_read(STUDY_FILE))
    first = round_open(round_=round_create(study=study))
    started = time.monotonic()
    panel_simulate(round_=first, n=experts, seed=1)
    print(f"round 1 answered by {experts} simulated experts in {time.monotonic() - started:.0f} s")
    return study


def _signed_in(data_path: Path, n: int) -> None:
    """Give each expert a session, as opening the personal link does, with the response's version."""
    from importlib import import_module

    from django.conf import settings
    from django.utils.crypto import get_random_string

    from surveys.models import Response, Study
    from surveys.services.simulation import sim_experts

    study = Study.objects.get(slug="trenin-2011-euromd")
    versions = dict(Response.objects.filter(round__study=study, round__number=2)
                    .values_list("expert_id", "version"))
    store = import_module(settings.SESSION_ENGINE).SessionStore
    experts = []
    for expert in sim_experts(study=study, n=n):
        session = store()
        session["expert_id"] = expert.pk
        session.create()
        csrf = get_random_string(32)
        cookie = f"{settings.SESSION_COOKIE_NAME}={session.session_key}; {settings.CSRF_COOKIE_NAME}={csrf}"
        experts.append({"k": expert.pk, "csrf": csrf, "version": versions.get(expert.pk, 0),
                        "cookie": cookie})
    data = json.loads(data_path.read_text())
    data_path.write_text(json.dumps(data | {"experts": experts}))


def essay_round_2_open(timeout: float = 120) -> None:
    """Close the essay study's round 1, wait until it is aggregated (by the worker, or at once
    with tasks in-process) and open round 2."""
    from surveys.models import Round, Study
    from surveys.services.rounds import round_close, round_create, round_open

    study = Study.objects.get(slug="trenin-2011-euromd")
    round_close(round_=study.rounds.get(number=1))  # the worker aggregates it
    deadline = time.monotonic() + timeout
    while study.rounds.get(number=1).status != Round.Status.AGGREGATED:
        if time.monotonic() > deadline:
            sys.exit("round 1 was not aggregated: is the worker running?")
        time.sleep(0.5)
    round_open(round_=round_create(study=study))


class Stack:
    """gunicorn and a Celery worker, started as platform/Procfile starts them."""

    def __init__(self, env: dict[str, str], out: Path, web_workers: int, *, floors: bool = False):
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # A longer worker timeout than production's 30 s: on a busy machine booting takes a while.
        web_env = env | {"PORT": str(self.port), "WEB_CONCURRENCY": str(web_workers),
                         "GUNICORN_TIMEOUT": "120"}
        if floors:  # production's settings with the floor views in front
            web_env |= {"DJANGO_SETTINGS_MODULE": "floor_settings", "PYTHONPATH": str(ROOT / "bench")}
        self.logs = [open(out / name, "w") for name in ("web.log", "worker.log")]  # noqa: SIM115
        self.procs = [
            subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "platform/gunicorn.conf.py",
                              "config.wsgi"], cwd=ROOT, env=web_env, stdout=self.logs[0],
                             stderr=subprocess.STDOUT),
            subprocess.Popen([sys.executable, "-m", "celery", "-A", "config", "worker",
                              "--hostname", f"bench-{uuid.uuid4().hex[:6]}@%h", "--concurrency", "1"],
                             cwd=ROOT, env=env, stdout=self.logs[1], stderr=subprocess.STDOUT),
        ]
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=10) as response:  # noqa: S310
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.5)
        self.stop()
        sys.exit(f"the stack did not become healthy within 180 s; see {out}")

    def stop(self) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        for log in self.logs:
            log.close()


def _drain(stack: Stack, timeout: float = 180) -> None:
    """Wait until gunicorn has worked through what the last run left queued."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        started = time.monotonic()
        try:
            with urllib.request.urlopen(f"{stack.url}/livez", timeout=30):  # noqa: S310
                pass
        except OSError:
            pass
        if time.monotonic() - started < 0.2:
            return
        time.sleep(1)


def _locust(args, stack: Stack, data_path: Path, out: Path, name: str, *, mode: str, seconds: int,
            users: int, think: str = "0", ramp: int = 4) -> tuple[list[dict], dict]:
    """One bounded Locust run; returns its per-step stats and the acknowledged answers. Users
    arrive over `ramp` seconds; the stats restart once all have, and cover `seconds` after."""
    _drain(stack)
    _signed_in(data_path, users)
    acks = out / f"{name}-acks.json"
    env = os.environ | {"BENCH_DATA": str(data_path), "BENCH_MODE": mode, "BENCH_THINK": think,
                        "BENCH_ACKS": str(acks)}
    user = "Trivial" if mode == "trivial" else "Expert"
    spawn = max(users / max(ramp, 1), 1)
    command = [sys.executable, "-m", "locust", "-f", str(ROOT / "bench" / "locustfile.py"), "--headless",
               "--host", stack.url, "-u", str(users), "-r", f"{spawn:g}",
               "--run-time", f"{seconds + ramp}s",
               "--stop-timeout", "30", "--reset-stats", "--only-summary", "--csv", str(out / name),
               "--loglevel", "WARNING", user]
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=seconds + ramp + 120)
    (out / f"{name}-locust.log").write_text(result.stdout + result.stderr)
    with open(out / f"{name}_stats.csv") as handle:
        rows = [row for row in csv.DictReader(handle) if row["Name"] != "Aggregated"]
    return rows, json.loads(acks.read_text()) if acks.exists() else {}


def _figures(rows: list[dict], steps: tuple[str, ...]) -> dict[str, dict]:
    figures = {}
    for row in rows:
        if row["Name"] in steps:
            figures[row["Name"]] = {
                "requests": int(row["Request Count"]), "failures": int(row["Failure Count"]),
                "rps": float(row["Requests/s"]), "p50": float(row["50%"]), "p95": float(row["95%"]),
                "p99": float(row["99%"]),
            }
    return figures


def _rows(code: str, fields: dict, keys: list[str]) -> frozenset:
    """The answer rows (dimension, value, text, no_opinion) one item's posted fields leave."""
    if f"a-{code}.none" in fields:
        return frozenset((key, None, "", True) for key in keys)
    if f"a-{code}.text" in fields:
        return frozenset({("", None, fields[f"a-{code}.text"], False)})
    return frozenset((name[len(f"a-{code}"):].lstrip("."), float(value), "", False)
                     for name, value in fields.items() if not name.endswith(".why"))


def _check_database(all_acks: list[dict]) -> dict[str, int]:
    """Compare round 2 in the database with what the server acknowledged, run after run.

    An item must hold exactly the rows of its last acknowledged answer, or of a later request
    that got no answer (a timeout, or in flight when a run stopped: committed or not, the client
    cannot know).
    """
    from django.db.models import Count

    from surveys.models import Answer, Item, Response

    keys = {i.code: i.answer_keys() for i in Item.objects.filter(study__slug="trenin-2011-euromd")}
    acked: dict[tuple[int, str], dict] = {}
    pending: dict[tuple[int, str], list[dict]] = {}
    submits: dict[int, int] = {}
    for acks in all_acks:
        for k, state in acks.items():
            for code, fields in state["items"].items():
                acked[int(k), code] = fields
                pending.pop((int(k), code), None)
            for code, candidates in state["pending"].items():
                pending.setdefault((int(k), code), []).extend(candidates)
            submits[int(k)] = submits.get(int(k), 0) + state["submits"]
    stored: dict[tuple[int, str], set] = {}
    answers = Answer.objects.filter(response__round__number=2).values_list(
        "response__expert_id", "item__code", "dimension", "value", "text", "no_opinion")
    for expert_id, code, *row in answers:
        stored.setdefault((expert_id, code), set()).add(tuple(row))
    lost = in_flight = 0
    for key in acked.keys() | pending.keys():
        have = frozenset(stored.get(key, set()))
        code = key[1]
        if have == (_rows(code, acked[key], keys[code]) if key in acked else frozenset()):
            continue
        if any(have == _rows(code, fields, keys[code]) for fields in pending.get(key, [])):
            in_flight += 1
        else:
            lost += 1
    unexpected = len(stored.keys() - acked.keys() - pending.keys())
    responses = Response.objects.filter(round__number=2)
    return {
        "answers_checked": len(acked.keys() | pending.keys()),
        "answer_rows_stored": answers.count(),
        "lost_or_wrong": lost,
        "unexpected": unexpected,
        "unanswered_but_committed": in_flight,
        "duplicate_responses": responses.values("expert").annotate(n=Count("id")).filter(n__gt=1).count(),
        "submitted_but_not_marked": sum(1 for k, n in submits.items() if n and not responses.filter(
            expert_id=k, status=Response.Status.SUBMITTED).exists()),
    }


def _table(title: str, figures: dict[str, dict]) -> str:
    lines = [f"{title}", "| step | requests | errors | req/s | p50 ms | p95 ms | p99 ms |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for step, f in figures.items():
        lines.append(f"| {step} | {f['requests']} | {f['failures']} | {f['rps']:.0f} | {f['p50']:.0f} "
                     f"| {f['p95']:.0f} | {f['p99']:.0f} |")
    return "\n".join(lines)


def main() -> None:
    args = _args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    static_root = Path(tempfile.mkdtemp(prefix="agora-bench-static-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL", "CELERY_"))}
    env |= {"DJANGO_SETTINGS_MODULE": "config.settings.production", "DJANGO_HTTPS": "false",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50), "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "AGORA_PSEUDONYM_KEY": secrets.token_hex(32),
            "DJANGO_STATIC_ROOT": str(static_root), "DJANGO_STATIC_COMPRESS": "false",
            "DATABASE_URL": args.database_url,
            "CELERY_BROKER_URL": args.broker_url,
            "CELERY_TASK_DEFAULT_QUEUE": f"agora-bench-{uuid.uuid4().hex[:6]}",
            "LOG_LEVEL": "WARNING", "PYTHONUNBUFFERED": "1"}
    data_path = out / "data.json"
    load_before = f"{os.getloadavg()[0]:.1f}"
    _recreate_database(args.database_url)
    _prepare(args, env, data_path)
    stack = Stack(env, out, args.web_workers, floors=args.floors)
    steps = [s for s in args.steps.split(",") if s]
    if args.floors:
        steps[1:1] = FLOORS
    try:
        essay_round_2_open()
        alone, acks = {}, []
        for step in steps:
            rows, step_acks = _locust(args, stack, data_path, out, step, mode=step, seconds=args.seconds,
                                      users=args.saturate)
            alone |= _figures(rows, (step,))
            acks.append(step_acks)
            print(f"{step}: {alone.get(step)}", flush=True)
        flows = {}
        for think in (args.think or ["2,6", "10,30"]) if args.flows else []:
            rows, flow_acks = _locust(args, stack, data_path, out, f"flow-{think.replace(',', '-')}",
                                      mode="flow", seconds=args.flow_seconds, users=args.experts,
                                      think=think, ramp=args.ramp)
            flows[think] = _figures(rows, ("open", "autosave", "submit"))
            acks.append(flow_acks)
            print(f"flow {think}: {flows[think]}", flush=True)
    finally:
        stack.stop()
    check = _check_database(acks)
    report = "\n\n".join([
        f"{args.web_workers} gunicorn workers, {os.cpu_count()} cores, client and server on the same "
        f"machine; load average before/after: {load_before} / {os.getloadavg()[0]:.1f}",
        _table(f"Each step alone, {args.saturate} users back to back ({args.seconds} s each):", alone),
        *(_table(f"The whole flow, {args.experts} experts pausing {think.replace(',', '-')} s "
                 f"between steps (arriving over {args.ramp} s, then {args.flow_seconds} s):", flow)
          for think, flow in flows.items()),
        "Database after the run: " + ", ".join(f"{k} {v}" for k, v in check.items()),
    ])
    (out / "report.md").write_text(report + "\n")
    figures = {"alone": alone, "flows": flows, "database": check}
    (out / "figures.json").write_text(json.dumps(figures, indent=1))
    print("\n" + report)
    if check["lost_or_wrong"] or check["unexpected"] or check["duplicate_responses"]:
        sys.exit(1)


if __name__ == "__main__":
    main()

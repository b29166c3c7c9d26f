"""Load figures for the attitude survey's respondent flow on the production-like stack (not a test).

    .venv/bin/python bench/survey_load.py --respondents 1500 --minutes 3

Brings up, on 127.0.0.1 and a database of its own (recreated: its name must contain "bench"),
the stack `make serve` runs (production settings, gunicorn with platform/gunicorn.conf.py, a
Celery worker, Redis as the broker), loads the essay's propositions as a survey (a consent text,
one screening question, four country collectors, one of them with a quota that fills during the
run), and sends respondents as a panel provider does: a burst every second (--rate respondents,
by default --respondents spread over --minutes), each with its own cookies and its own external
id, walking the whole flow over HTTP with an async client on the same machine:

    open       GET /s/<token>/?pid=...   the consent page
    consent    POST consent/             agree (302 to the link)
    form       GET /s/<token>/           the screening page
    screening  POST screening/           5 % answer as ineligible: screened out, redirected
    page       GET page/N/               one theme's items (one per theme)
    next       POST page/N/              "Next": the page saved in one transaction
    finish     POST page/LAST/           the completion: the panel provider's redirect with ?pid=

It prints completed respondents per hour (completions over the time from the first arrival to
the last answer), p50/p95/p99 per step, errors (a status or redirect other than the flow's, or
no answer in --timeout seconds), and checks the database: every respondent whose completion was
acknowledged is completed with exactly the answers it posted and one submitted response, no
other respondent is completed, no quota is overfilled. The run is bounded: arrivals stop after
--minutes, and respondents still walking --grace seconds later count as errors.
"""

import argparse
import asyncio
import os
import random
import re
import secrets
import statistics
import sys
import tempfile
import time
import uuid
from http.cookiejar import CookieJar, DefaultCookiePolicy
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from load import STUDY_FILE, Stack, _recreate_database, _rows  # noqa: E402

STEPS = ("open", "consent", "form", "screening", "page", "next", "finish")
SLUG = "essay-survey-bench"
DONE_URL = "https://panel.example.org/done"
OUT_URL = "https://panel.example.org/out"
SCREENED_OUT_SHARE = 0.05
# collector code, group, country, share of the arrivals, quota as a share of its arrivals
COLLECTORS = [("ru", "RU", "Russia", 0.25, None), ("us", "US", "United States", 0.25, None),
              ("we", "WE", "Western Europe", 0.25, None),
              ("cee", "CEE", "Central and Eastern Europe", 0.25, 0.8)]
VERSION = re.compile(r'name="version"[^>]*value="(\d+)"')
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/agora_surveybench")
    parser.add_argument("--broker-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--respondents", type=int, default=500, help="respondents sent in all")
    parser.add_argument("--minutes", type=float, default=3, help="minutes over which they arrive")
    parser.add_argument("--rate", type=float, default=0,
                        help="respondents per second (one burst a second); default: "
                             "--respondents / (--minutes x 60)")
    parser.add_argument("--think", default="0,0",
                        help="seconds a respondent pauses between steps, as low,high (default 0,0)")
    parser.add_argument("--timeout", type=float, default=30, help="seconds one request may take")
    parser.add_argument("--grace", type=float, default=120,
                        help="seconds after the last arrival before the run stops")
    parser.add_argument("--connections", type=int, default=64, help="the client's connection pool")
    parser.add_argument("--web-workers", type=int, default=2 * (os.cpu_count() or 1) + 1)
    parser.add_argument("--out", default=str(ROOT / "test-artifacts" / "survey-bench"))
    return parser.parse_args()


def survey_data() -> dict:
    """The essay's propositions as an attitude survey with four country collectors."""
    from surveys.services.studies import study_file_read

    data = study_file_read(STUDY_FILE)
    data |= {
        "slug": SLUG, "mode": "survey",
        "consent": [{"version": "v1", "text": {"en": "We keep your answers for research.",
                                               "ru": "Мы храним ваши ответы для исследования."}}],
        "screening": [{"code": "role", "text": {"en": "Your work?", "ru": "Ваша работа?"},
                       "options": [{"code": "expert", "text": {"en": "Expert", "ru": "Эксперт"}},
                                   {"code": "other", "text": {"en": "Other", "ru": "Другое"}}],
                       "eligible": ["expert"]}],
    }
    return data


def _prepare(args, env: dict[str, str], n: int) -> dict:
    """Migrate, load the survey, open its round; returns the collectors and the pages' items."""
    import subprocess

    for command in (["migrate", "--no-input", "-v", "0"], ["collectstatic", "--no-input", "-v", "0"]):
        subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, env=env, check=True)
    os.environ.update(env)
    import django

    django.setup()
    from surveys.models import Collector, StakeholderGroup
    from surveys.selectors_fielding import survey_pages
    from surveys.services.rounds import round_create, round_open
    from surveys.services.studies import study_load

    study = study_load(data=survey_data())
    round_ = round_open(round_=round_create(study=study))
    collectors = []
    for code, group, country, share, quota in COLLECTORS:
        c = Collector.objects.create(
            study=study, code=code, group=StakeholderGroup.objects.get(study=study, code=group),
            country=country, quota=None if quota is None else int(n * share * quota),
            complete_redirect=DONE_URL, screenout_redirect=OUT_URL, id_param="pid")
        collectors.append({"code": code, "token": c.token, "share": share, "quota": c.quota})
    pages = [[{"code": i.code, "kind": i.kind, "keys": i.answer_keys(),
               "low": (i.bounds() or (0, 0))[0], "high": (i.bounds() or (0, 0))[1]} for i in page]
             for page in survey_pages(round_)]
    return {"collectors": collectors, "pages": pages}


def item_fields(item: dict, rng: random.Random) -> dict[str, str]:
    """One item's form fields with a valid random answer (no rationale: a survey asks none)."""
    code, kind = item["code"], item["kind"]
    if kind == "open":
        return {f"a-{code}.text": f"Survey idea {rng.randrange(10**6)}"}
    if kind in {"agreement", "dimensions", "probability"} and rng.random() < 0.04:
        return {f"a-{code}.none": "1"}
    if kind == "ranking":
        places = rng.sample(range(1, len(item["keys"]) + 1), len(item["keys"]))
        return {f"a-{code}.{key}": str(p) for key, p in zip(item["keys"], places, strict=True)}
    return {(f"a-{code}.{key}" if key else f"a-{code}"): str(rng.randint(int(item["low"]),
                                                                          int(item["high"])))
            for key in item["keys"]}


class Respondent:
    """One respondent from the panel provider: its own cookies, id, answers and timings."""

    def __init__(self, k: int, collector: dict, rng: random.Random):
        self.k, self.collector, self.rng = k, collector, rng
        self.pid = f"p{k:06d}-{secrets.token_hex(3)}"
        self.cookies: dict[str, str] = {}
        self.answers: dict[str, dict] = {}  # item code -> fields posted and acknowledged
        self.outcome = "walking"  # completed | screened_out | quota_full | error
        self.error = ""

    def _headers(self) -> dict[str, str]:
        return {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())} if self.cookies else {}

    def _keep(self, response) -> None:
        for line in response.headers.get_list("set-cookie"):
            name, _eq, value = line.split(";", 1)[0].partition("=")
            self.cookies[name.strip()] = value.strip()


async def _request(client, r: Respondent, timings, step: str, method: str, url: str,
                   data: dict | None = None):
    started = time.monotonic()
    response = await client.request(method, url, data=data, headers=r._headers())
    timings[step].append((time.monotonic() - started) * 1000)
    r._keep(response)
    return response


def _expect(response, status: int, location: str = "") -> None:
    if response.status_code != status or (location and not response.headers.get(
            "location", "").startswith(location)):
        raise AssertionError(f"{response.request.method} {response.request.url.path}: "
                             f"{response.status_code} {response.headers.get('location', '')}")


async def walk(client, r: Respondent, pages: list, timings, think: tuple[float, float]) -> None:
    """The whole flow of one respondent; sets r.outcome (an exception: r.error)."""
    base = f"/s/{r.collector['token']}/"

    async def pause():
        if think[1] > 0:
            await asyncio.sleep(r.rng.uniform(*think))

    try:
        page = await _request(client, r, timings, "open", "GET", f"{base}?pid={r.pid}")
        if page.status_code == 302 and page.headers["location"].startswith(OUT_URL):
            r.outcome = "quota_full"  # the door says the quota is full
            return
        _expect(page, 200)
        csrf = CSRF.search(page.text).group(1)
        await pause()
        _expect(await _request(client, r, timings, "consent", "POST", base + "consent/",
                               {"csrfmiddlewaretoken": csrf, "choice": "agree", "version": "v1"}),
                302, base)
        form = await _request(client, r, timings, "form", "GET", base)
        _expect(form, 200)
        await pause()
        eligible = r.rng.random() >= SCREENED_OUT_SHARE
        screened = await _request(client, r, timings, "screening", "POST", base + "screening/", {
            "csrfmiddlewaretoken": csrf, "s-role": "expert" if eligible else "other"})
        if not eligible:
            _expect(screened, 302, f"{OUT_URL}?pid={r.pid}")
            r.outcome = "screened_out"
            return
        _expect(screened, 302, base + "page/1/")
        for number, items in enumerate(pages, start=1):
            shown = await _request(client, r, timings, "page", "GET", f"{base}page/{number}/")
            _expect(shown, 200)
            version = VERSION.search(shown.text).group(1)
            fields = {item["code"]: item_fields(item, r.rng) for item in items}
            last = number == len(pages)
            await pause()
            saved = await _request(client, r, timings, "finish" if last else "next", "POST",
                                   f"{base}page/{number}/", {
                                       "csrfmiddlewaretoken": csrf, "version": version,
                                       "action": "finish" if last else "next",
                                       **{k: v for f in fields.values() for k, v in f.items()}})
            if last and saved.headers.get("location", "").startswith(OUT_URL):
                _expect(saved, 302, f"{OUT_URL}?pid={r.pid}")
                r.outcome = "quota_full"
                return
            _expect(saved, 302, f"{DONE_URL}?pid={r.pid}" if last else f"{base}page/{number + 1}/")
            r.answers |= fields
        r.outcome = "completed"
    except Exception as exc:  # noqa: BLE001 - every failure is counted and shown
        r.outcome, r.error = "error", f"{type(exc).__name__}: {exc}"[:300]


async def run(args, url: str, setup: dict) -> tuple[list[Respondent], dict, float]:
    """Send the respondents in bursts, one a second; returns them, the timings and the seconds
    from the first arrival to the last answer."""
    import httpx

    rate = args.rate or args.respondents / (args.minutes * 60)
    timings: dict[str, list[float]] = {step: [] for step in STEPS}
    low, _c, high = args.think.partition(",")
    think = (float(low), float(high or low))
    limits = httpx.Limits(max_connections=args.connections, max_keepalive_connections=args.connections)
    weights = [c["share"] for c in setup["collectors"]]
    rng = random.Random(1)  # noqa: S311 - test data, not secrets
    respondents: list[Respondent] = []
    tasks = []
    # One connection pool for all; each respondent keeps its own cookies (Respondent.cookies),
    # so the client's shared jar must store none.
    no_jar = CookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))
    async with httpx.AsyncClient(base_url=url, timeout=args.timeout, limits=limits,
                                 cookies=no_jar) as client:
        started = time.monotonic()
        second = 0
        while len(respondents) < args.respondents and time.monotonic() - started < args.minutes * 60:
            due = min(args.respondents, round(rate * (second + 1)))
            while len(respondents) < due:
                k = len(respondents)
                collector = rng.choices(setup["collectors"], weights)[0]
                r = Respondent(k, collector, random.Random(k))  # noqa: S311
                respondents.append(r)
                tasks.append(asyncio.create_task(walk(client, r, setup["pages"], timings, think)))
            second += 1
            await asyncio.sleep(max(0.0, started + second - time.monotonic()))
        _done, pending = await asyncio.wait(tasks, timeout=args.grace) if tasks else (set(), set())
        for task in pending:
            task.cancel()
        ended = time.monotonic()
    for r in respondents:
        if r.outcome == "walking":
            r.outcome, r.error = "error", f"still walking {args.grace:.0f} s after the last arrival"
    return respondents, timings, ended - started


def check_database(respondents: list[Respondent], pages: list) -> dict[str, int]:
    """Compare the database with what the server acknowledged to each respondent."""
    from django.db.models import Count, Q

    from surveys.models import Answer, Collector, Entry, Response

    keys = {item["code"]: item["keys"] for page in pages for item in page}
    stored: dict[str, set] = {}
    rows = Answer.objects.filter(response__round__study__slug=SLUG).values_list(
        "response__expert__entry__external_id", "item__code", "dimension", "value", "text",
        "no_opinion")
    for pid, code, *row in rows:
        stored.setdefault(pid, set()).add((code, *row))
    completed = set(Entry.objects.filter(collector__study__slug=SLUG, status=Entry.Status.COMPLETED)
                    .values_list("external_id", flat=True))
    submitted = dict(Response.objects.filter(round__study__slug=SLUG, status="submitted")
                     .values("expert__entry__external_id").annotate(n=Count("id"))
                     .values_list("expert__entry__external_id", "n"))
    acknowledged = {r.pid: r for r in respondents if r.outcome == "completed"}
    lost = 0
    for pid, r in acknowledged.items():
        expected = {(code, *row) for code, fields in r.answers.items()
                    for row in _rows(code, fields, keys[code])}
        if pid not in completed or submitted.get(pid) != 1 or stored.get(pid, set()) != expected:
            lost += 1
    overfilled = sum(1 for c in Collector.objects.filter(study__slug=SLUG).annotate(
        n=Count("entries", filter=Q(entries__status="completed"))) if c.quota is not None and c.n > c.quota)
    return {"acknowledged": len(acknowledged), "completed_in_db": len(completed),
            "lost_or_wrong": lost, "completed_not_acknowledged": len(completed - acknowledged.keys()),
            "answer_rows": rows.count(), "quotas_overfilled": overfilled}


def _pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(q) - 1]


def report(args, respondents, timings, seconds, check, load_before: str, pages: int) -> str:
    rate = args.rate or args.respondents / (args.minutes * 60)
    outcomes = {o: sum(1 for r in respondents if r.outcome == o)
                for o in ("completed", "screened_out", "quota_full", "error")}
    per_hour = outcomes["completed"] / seconds * 3600 if seconds else 0
    everything = [t for values in timings.values() for t in values]
    lines = [
        f"{args.web_workers} gunicorn workers, 1 Celery worker, {os.cpu_count()} cores, client and "
        f"server on the same machine; load average before/after: {load_before} / "
        f"{os.getloadavg()[0]:.1f}",
        f"{len(respondents)} respondents arriving at {rate:.2f}/s (a burst a second), "
        f"{pages} pages each; {seconds:.0f} s from the first arrival to the last answer",
        "outcomes: " + ", ".join(f"{k} {v}" for k, v in outcomes.items())
        + f"; {len(everything) / seconds:.0f} requests/s answered" if seconds else "",
        "", "| step | requests | p50 ms | p95 ms | p99 ms | max ms |", "|---|---:|---:|---:|---:|---:|"]
    for step, values in [*timings.items(), ("all", everything)]:
        if values:
            lines.append(f"| {step} | {len(values)} | {_pct(values, 50):.0f} | {_pct(values, 95):.0f} "
                         f"| {_pct(values, 99):.0f} | {max(values):.0f} |")
    errors = [r.error for r in respondents if r.outcome == "error"]
    if errors:
        lines += ["", "errors (first 5):", *errors[:5]]
    lines += ["", "Database after the run: " + ", ".join(f"{k} {v}" for k, v in check.items()), ""]
    lost = check["lost_or_wrong"] + check["completed_not_acknowledged"] + check["quotas_overfilled"]
    lines.append(f"respondents/h: {per_hour:.0f}  p95 ms: {_pct(everything, 95):.0f}  "
                 f"errors: {outcomes['error']}  lost: {lost}")
    return "\n".join(lines)


def main() -> None:
    args = _args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    static_root = Path(tempfile.mkdtemp(prefix="agora-surveybench-static-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL", "CELERY_"))}
    env |= {"DJANGO_SETTINGS_MODULE": "config.settings.production", "DJANGO_HTTPS": "false",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50), "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "AGORA_PSEUDONYM_KEY": secrets.token_hex(32),
            "DJANGO_STATIC_ROOT": str(static_root), "DJANGO_STATIC_COMPRESS": "false",
            "DATABASE_URL": args.database_url, "DATABASE_CONN_MAX_AGE": "60",
            "CELERY_BROKER_URL": args.broker_url,
            "CELERY_TASK_DEFAULT_QUEUE": f"agora-surveybench-{uuid.uuid4().hex[:6]}",
            "LOG_LEVEL": "WARNING", "PYTHONUNBUFFERED": "1"}
    load_before = f"{os.getloadavg()[0]:.1f}"
    _recreate_database(args.database_url)
    setup = _prepare(args, env, args.respondents)
    print(f"survey loaded: {len(setup['pages'])} pages, "
          f"{sum(len(p) for p in setup['pages'])} items", flush=True)
    stack = Stack(env, out, args.web_workers)
    try:
        respondents, timings, seconds = asyncio.run(run(args, stack.url, setup))
    finally:
        stack.stop()
    check = check_database(respondents, setup["pages"])
    text = report(args, respondents, timings, seconds, check, load_before, len(setup["pages"]))
    (out / "report.md").write_text(text + "\n")
    print("\n" + text)
    if check["lost_or_wrong"] or check["completed_not_acknowledged"] or check["quotas_overfilled"]:
        sys.exit(1)


if __name__ == "__main__":
    main()

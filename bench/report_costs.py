"""What the report page and the PDF cost next to the expert's questionnaire, measured in one run.

    .venv/bin/python bench/report_costs.py                  # embedded SQLite, a temporary file
    .venv/bin/python bench/report_costs.py --experts 40 -n 5 --profile report

Builds the demo study as `manage.py demo` does (workspace/services/demo.py: the study file
surveys/studies/euromd_2026.yaml imported by the demo organizer, rules registered, --experts
simulated experts answer round 1, which is closed and aggregated in-process, round 2 opens),
then times with django.test.Client, wall clock, in this one process:

    questionnaire  GET /q/ of a signed-in expert: the first open in the process (cold), then warm
    report         GET the round 1 report page as the demo analyst: the first open after the
                   aggregation (cold), then warm
    render         the report rendered from the snapshot once (at aggregation time; what every
                   view of the page cost before it was kept in storage)
    pdf job        the PDF of round 1 rendered by its background job (in-process here)

and prints the median of -n requests each and the ratios report / questionnaire. The report's
budget (issue 17): no more than twice the questionnaire page. Figures only: nothing is asserted.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", "--requests", type=int, default=10, help="timed warm requests of each page")
    parser.add_argument("--experts", type=int, default=40, help="simulated experts (the demo's default)")
    parser.add_argument("--profile", choices=("report", "render", "questionnaire", "pdf"),
                        help="instead of the table, profile this step (cProfile, 30 costliest functions)")
    return parser.parse_args()


def _setup(workdir: Path) -> None:
    """Django on the embedded settings (tasks in-process) and a new, migrated database."""
    for name in ("DATABASE_URL", "CELERY_BROKER_URL", "CACHE_URL"):
        os.environ.pop(name, None)
    os.environ |= {"DJANGO_SETTINGS_MODULE": "config.settings.base", "LOG_LEVEL": "WARNING",
                   "AGORA_DATA_DIR": str(workdir)}
    import django
    from django.conf import settings

    settings.DATABASES["default"]["NAME"] = str(workdir / "report.sqlite3")  # not the demo's file
    django.setup()
    settings.REPORTS_DIR = workdir / "reports"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"  # the invitations
    from django.core.management import call_command

    call_command("migrate", "--no-input", verbosity=0)


def _demo(experts: int):
    """The demo's study, as `manage.py demo` leaves it (round 1 aggregated, round 2 open)."""
    from workspace.services import demo

    staff = demo.demo_staff()
    study = demo.demo_study(staff=staff)
    demo.demo_round_one(study=study, organizer=staff["organizer"], experts=experts, seed=2011)
    demo.demo_round_two(study=study, organizer=staff["organizer"])
    return study, staff


def _clients(study, staff):
    from django.test import Client

    from surveys.services.panel import expert_issue_token
    from surveys.services.simulation import sim_experts

    expert = next(e for e in sim_experts(study=study, n=study.experts.count()) if e.withdrawn_at is None)
    questionnaire = Client(HTTP_HOST="127.0.0.1")
    questionnaire.get(f"/e/{expert_issue_token(expert=expert)}/")
    analyst = Client(HTTP_HOST="127.0.0.1")
    analyst.force_login(staff["analyst"])
    return questionnaire, analyst


def _timed(client, url: str) -> float:
    started = time.perf_counter()
    response = client.get(url)
    seconds = time.perf_counter() - started
    if response.status_code != 200:
        sys.exit(f"GET {url}: {response.status_code} {response.content.decode()[:300]}")
    return seconds


def _pdf_job(round_) -> float:
    """Seconds from the request of the PDF to its file in storage (the job runs in-process)."""
    from django.db import transaction

    from surveys.reports import jobs

    started = time.perf_counter()
    with transaction.atomic():  # the job is enqueued on commit, and runs then (in-process)
        key, _status = jobs.pdf_request(round_=round_, language="en")
    status = jobs.job_status(key)
    if status["state"] != "ready":
        sys.exit(f"the PDF job ended {status}")
    return time.perf_counter() - started


def _render_once(round_) -> float:
    """Seconds to render the report body from the snapshot (what every view cost before it was
    kept; now once per snapshot and language, at aggregation time)."""
    from surveys.reports import jobs

    (jobs.reports_dir() / f"{jobs.job_key(round_, 'en')}.body.html").unlink()
    started = time.perf_counter()
    jobs.report_body(round_, "en")
    return time.perf_counter() - started


def _profile(call) -> None:
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    profiler.runcall(call)
    stats = pstats.Stats(profiler)
    stats.sort_stats("tottime").print_stats(30)
    stats.sort_stats("cumulative").print_stats(40)


def main() -> None:
    args = _args()
    with tempfile.TemporaryDirectory(prefix="agora-report-") as workdir:
        _setup(Path(workdir))
        started = time.monotonic()
        study, staff = _demo(args.experts)
        round_1 = study.rounds.get(number=1)
        print(f"demo study {study.slug}: {study.items.count()} items, {args.experts} simulated "
              f"experts, round 1 {round_1.status}; built in {time.monotonic() - started:.0f} s")
        questionnaire, analyst = _clients(study, staff)
        report_url = f"/studies/{study.slug}/reports/1/"
        if args.profile:
            steps = {"report": lambda: analyst.get(report_url),
                     "render": lambda: _render_once(round_1),
                     "questionnaire": lambda: questionnaire.get("/q/"),
                     "pdf": lambda: _pdf_job(round_1)}
            _profile(steps[args.profile])
            return
        cold = {"questionnaire": _timed(questionnaire, "/q/"), "report": _timed(analyst, report_url)}
        n = range(args.requests)
        warm = {"questionnaire": statistics.median(_timed(questionnaire, "/q/") for _ in n),
                "report": statistics.median(_timed(analyst, report_url) for _ in n)}
        render = _render_once(round_1)
        pdf = _pdf_job(round_1)
        print(f"\nwall-clock seconds, median of {args.requests} warm requests:\n")
        print("| page | cold (first open) | warm |")
        print("|---|---:|---:|")
        for page in ("questionnaire", "report"):
            print(f"| {page} | {cold[page]:.3f} | {warm[page]:.3f} |")
        print(f"\nreport / questionnaire: cold {cold['report'] / cold['questionnaire']:.2f}, "
              f"warm {warm['report'] / warm['questionnaire']:.2f} (budget: 2)")
        print(f"rendering the report from the snapshot (once per snapshot and language, at "
              f"aggregation; every view before): {render:.2f} s")
        print(f"PDF job (request to file in storage, in-process): {pdf:.2f} s")
        print(f"load average: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()

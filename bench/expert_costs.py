"""What the expert's hot requests cost in this process: CPU and queries per request (not a test).

    .venv/bin/python bench/expert_costs.py                  # embedded SQLite, a temporary file
    .venv/bin/python bench/expert_costs.py -n 100 --database postgres://postgres@127.0.0.1:5432/agora_costbench

Builds the essay study in round 2 as bench/load.py does (--experts simulated experts answer
round 1, which is aggregated in-process; round 2 opens, so every item shows the panel's
feedback), signs --clients of the panel in with their personal links (English and Russian in
turn), lets each open the page and autosave once (a web process's warm state: its per-process
caches filled), then times N requests of each kind with django.test.Client, round robin over
the signed-in experts:

    trivial    GET /livez, a view that does nothing (the floor: the middleware and the client)
    open       GET /q/, the questionnaire with all 58 items and their feedback
    autosave   POST /q/autosave/ with one item of a draft, as the page's htmx posts it
    submit     POST /q/ with every item
    revise     the same autosave once submitted (the response keeps a revision of each change)

and prints the CPU milliseconds of each request (time.process_time: this process only; a
PostgreSQL server's own work is not in it, SQLite's is), and the queries per request, counted
in a separate pass (capturing them costs CPU too). Figures only: nothing is asserted.
A --database URL's database is recreated: its name must contain "bench".
"""

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))
from aggregate_panel import setup_django  # noqa: E402
from load import essay_round_1_answered, essay_round_2_open  # noqa: E402

VERSION = re.compile(r'name="version"[^>]*value="(\d+)"')
FORM = "application/x-www-form-urlencoded"  # as htmx and browsers post the questionnaire
STEPS = ("trivial", "open", "autosave", "submit", "revise")


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", "--requests", type=int, default=60, help="timed requests of each kind")
    parser.add_argument("--experts", type=int, default=200, help="simulated experts answering round 1")
    parser.add_argument("--clients", type=int, default=6, help="signed-in experts taking turns")
    parser.add_argument("--database", default="",
                        help="a postgres:// URL (recreated; its name must contain 'bench'); "
                             "default: embedded SQLite in a temporary file")
    parser.add_argument("--profile", choices=STEPS,
                        help="instead of the table, profile N requests of this kind (cProfile) "
                             "and print the 30 functions with the most time of their own")
    return parser.parse_args()


def _setup(database: str, workdir: Path) -> None:
    """Django on the embedded settings (tasks in-process) and a new, migrated database."""
    for name in ("DATABASE_URL", "CELERY_BROKER_URL", "CACHE_URL"):
        os.environ.pop(name, None)
    os.environ |= {"DJANGO_SETTINGS_MODULE": "config.settings.base", "LOG_LEVEL": "WARNING"}
    if database:
        setup_django(database, fresh=True)
    else:
        from django.conf import settings

        # Not the checkout's db.sqlite3 (the demo's): a file of this run's own.
        settings.DATABASES["default"]["NAME"] = str(workdir / "costs.sqlite3")
        setup_django(None)
    from django.core.management import call_command

    call_command("migrate", "--no-input", verbosity=0)


def _item_fields(item, k: int) -> dict[str, str]:
    """One item's form fields with a valid answer that changes with k, as the page posts them."""
    code = item.code
    if item.kind == "open":
        return {f"a-{code}.text": f"Idea number {k}"}
    keys = item.answer_keys()
    if item.kind == "ranking":
        places = [(j + k) % len(keys) + 1 for j in range(len(keys))]
        fields = {f"a-{code}.{key}": str(p) for key, p in zip(keys, places, strict=True)}
    else:
        low, high = item.bounds()
        value = int(low) + k % (int(high) - int(low) + 1)
        fields = {(f"a-{code}.{key}" if key else f"a-{code}"): str(value) for key in keys}
    return fields | {f"a-{code}.why": f"Reason {k}." if k % 3 == 0 else ""}


def _expect(ok: bool, response) -> None:
    if not ok:
        sys.exit(f"unexpected answer {response.status_code}: {response.content.decode()[:500]}")


class Expert:
    """A signed-in expert (their own test client) and the version of their response."""

    def __init__(self, expert):
        from django.test import Client

        from surveys.services.panel import expert_issue_token

        self.client = Client(HTTP_HOST="127.0.0.1")
        self.client.get(f"/e/{expert_issue_token(expert=expert)}/")
        self.language = expert.language
        self.version = "0"
        self.k = 0

    def trivial(self, items):
        return self.client.get("/livez")

    def open(self, items):
        response = self.client.get("/q/")
        _expect(response.status_code == 200, response)
        self.version = VERSION.search(response.content.decode()).group(1)
        return response

    def autosave(self, items):
        self.k += 1
        item = items[self.k % len(items)]
        response = self.client.post("/q/autosave/", urlencode({"version": self.version,
                                                           **_item_fields(item, self.k)}),
                                    content_type=FORM, HTTP_HX_REQUEST="true")
        _expect(response.status_code == 200, response)
        self.version = VERSION.search(response.content.decode()).group(1)
        return response

    def revise(self, items):
        return self.autosave(items)

    def submit(self, items):
        self.k += 1
        data = {"version": self.version, "action": "submit"}
        for item in items:
            data |= _item_fields(item, self.k)
        response = self.client.post("/q/", urlencode(data), content_type=FORM)
        _expect(response.status_code == 302 and "submitted=1" in response["Location"], response)
        self.version = str(int(self.version) + 1)
        return response


def _cpu_ms(experts: list[Expert], items, step: str, n: int) -> list[float]:
    times = []
    for k in range(n):
        expert = experts[k % len(experts)]
        started = time.process_time()
        getattr(expert, step)(items)
        times.append((time.process_time() - started) * 1000)
    return times


def _queries(expert: Expert, items, step: str) -> tuple[int, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        response = getattr(expert, step)(items)
    return len(queries), len(response.content)


def _profile(experts: list[Expert], items, step: str, n: int) -> None:
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    profiler.runcall(_cpu_ms, experts, items, step, n)
    stats = pstats.Stats(profiler)
    print(f"{n} {step} requests, the 30 functions with the most time of their own:")
    stats.sort_stats("tottime").print_stats(30)
    stats.sort_stats("cumulative").print_stats(40)


def main() -> None:
    args = _args()
    with tempfile.TemporaryDirectory(prefix="agora-costs-") as workdir:
        _setup(args.database, Path(workdir))
        from django.db import connection

        from surveys.models import Study
        from surveys.selectors import round_current, round_items
        from surveys.services.simulation import sim_experts

        started = time.monotonic()
        study = essay_round_1_answered(args.experts)
        essay_round_2_open()
        study = Study.objects.get(pk=study.pk)
        items = round_items(round_current(study))
        experts = [Expert(e) for e in sim_experts(study=study, n=args.experts)[:args.clients]]
        print(f"essay study in round 2 ({len(items)} items, feedback from {args.experts} experts) "
              f"on {connection.vendor}, built in {time.monotonic() - started:.0f} s")
        cold = {}
        for expert in experts:
            for step in ("open", "autosave"):
                started = time.process_time()
                getattr(expert, step)(items)
                cold.setdefault(step, (time.process_time() - started) * 1000)
        if args.profile:
            _profile(experts, items, args.profile, args.requests)
            connection.close()
            return
        print(f"{args.requests} requests of each kind over {len(experts)} experts "
              f"({', '.join(sorted({e.language for e in experts}))}); CPU ms per request:\n")
        print("| request | median | mean | min | max | first in process | queries | bytes |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|")
        for step in STEPS:
            times = _cpu_ms(experts, items, step, args.requests)
            queries, size = _queries(experts[0], items, step)
            first = f"{cold[step]:.1f}" if step in cold else ""
            print(f"| {step} | {statistics.median(times):.1f} | {statistics.fmean(times):.1f} "
                  f"| {min(times):.1f} | {max(times):.1f} | {first} | {queries} | {size} |")
        print(f"\nload average: {os.getloadavg()[0]:.1f}")
        connection.close()


if __name__ == "__main__":
    main()

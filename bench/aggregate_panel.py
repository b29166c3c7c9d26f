"""The simulated panel of the aggregation benchmark (bench/aggregate.py): a study of
`items` items (every kind), `experts` experts in five stakeholder groups with expertise
ratings, and two answered rounds, bulk loaded (COPY on PostgreSQL); and (build_survey) an
attitude survey's one round answered by many respondents.

The simulator's model, vectorized: each stakeholder group leans its own way on each item,
experts add an offset and noise, 4 % answer "no opinion", and in round 2 experts move halfway
toward round 1's median. Round 1 is aggregated (round 2 reads its snapshot for the median
change); round 2 is left closed, for the measurements. The database is recreated on each run.
"""

from __future__ import annotations

import io
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE = "postgres://postgres@127.0.0.1:5432/agora_bench"
GROUPS = ["RU", "US", "CEE", "WE", "CN"]
THEMES = 10


def setup_django(database_url: str | None, *, fresh: bool = False) -> None:
    """Point Django at the benchmark database with tasks in-process. `fresh` recreates the
    database (its name must contain "bench"), so that no earlier run's answers are scanned."""
    if database_url:
        os.environ["DATABASE_URL"] = database_url
        _create_database(database_url, fresh=fresh)
    os.environ.pop("CELERY_BROKER_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def _create_database(url: str, *, fresh: bool) -> None:
    import psycopg

    base, _, name = url.rpartition("/")
    if fresh and "bench" not in name:
        raise SystemExit(f"refusing to recreate {name!r}: a benchmark database's name contains 'bench'")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        if fresh:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def item_kinds(items: int) -> list[str]:
    """Mostly agreement items, with every other kind present (as in a real study)."""
    pattern = (["agreement"] * 16 + ["dimensions", "probability", "year", "ranking"])
    kinds = [pattern[k % len(pattern)] for k in range(items)]
    if items >= 10:
        kinds[-1] = "numeric"
    return kinds


def study_data(slug: str, items: int, rng) -> dict:
    text = {"en": "Benchmark proposition", "ru": "Тезис для замера"}
    entries = []
    for k, kind in enumerate(item_kinds(items)):
        entry = {"code": f"i{k:03d}", "kind": kind, "text": text}
        if kind in ("agreement", "dimensions"):
            entry["leaning"] = {g: float(rng.uniform(1.5, 4.5)) for g in GROUPS}
        if kind == "dimensions":
            entry["dimensions"] = ["desirability", "feasibility"]
        if kind == "probability":
            entry["leaning"] = {g: float(rng.uniform(10, 90)) for g in GROUPS}
        if kind in ("year", "numeric"):
            entry |= {"min": 2011, "max": 2100} if kind == "year" else {"min": 0, "max": 1000}
        if kind == "ranking":
            entry["options"] = [{"code": c, "text": {"en": c, "ru": c}} for c in "abc"]
        entries.append(entry)
    per_theme = -(-items // THEMES)
    themes = [{"code": f"t{t}", "title": {"en": f"Theme {t}", "ru": f"Тема {t}"},
               "items": entries[t * per_theme:(t + 1) * per_theme]} for t in range(THEMES)]
    return {"version": 1, "slug": slug, "title": {"en": slug, "ru": slug},
            "stakeholder_groups": [{"code": g, "name": {"en": g, "ru": g}} for g in GROUPS],
            "themes": [t for t in themes if t["items"]]}


def simulate(items, n_experts: int, rng, previous=None):
    """One round's answers as a DataFrame (expert index, item id, dimension, value)."""
    import numpy as np
    import pandas as pd

    group_of = np.arange(n_experts) % len(GROUPS)
    offset = rng.normal(0, 0.5, n_experts)
    parts = []
    for item in items:
        low, high = item.bounds()
        keys = item.answer_keys()
        silent = rng.random(n_experts) < 0.04
        if item.kind == "ranking":
            noise = rng.normal(0, 0.8, (n_experts, len(keys))) + np.arange(len(keys))
            ranks = noise.argsort(axis=1).argsort(axis=1) + 1.0
            for j, key in enumerate(keys):
                parts.append(_part(item.pk, key, ranks[:, j], silent))
            continue
        spread = {"probability": 12.0, "year": 4.0, "numeric": (high - low) / 20}.get(item.kind, 0.45)
        for key in keys:
            lean = np.array([float(item.leaning.get(g, (low + high) / 2)) for g in GROUPS])
            centre = lean[group_of] + offset * (spread / 0.45 if item.kind != "agreement" else 1)
            sd = spread
            if previous is not None:
                before = previous[(item.pk, key)]
                median = np.nanmedian(before)
                centre = np.where(np.isnan(before), centre, before + 0.5 * (median - before))
                sd = spread / 2
            values = np.clip(np.round(centre + rng.normal(0, sd, n_experts)), low, high)
            parts.append(_part(item.pk, key, values, silent))
    frame = pd.concat(parts, ignore_index=True)
    by_key = {key: part["value"].to_numpy() for key, part in frame.groupby(["item", "dimension"])}
    return frame, by_key


def _part(item_id, key, values, silent):
    import numpy as np
    import pandas as pd

    return pd.DataFrame({"expert": np.arange(len(values)), "item": item_id, "dimension": key,
                         "value": np.where(silent, np.nan, values)})


def build(n_experts: int, n_items: int, *, seed: int = 1):
    """Create the study, its panel and two answered rounds; returns (round 1, round 2)."""
    import numpy as np
    from django.db import connection
    from django.utils import timezone

    from surveys.models import Expert, ExpertiseRating, Response, Round
    from surveys.services.aggregation import aggregation_request, round_aggregate
    from surveys.services.rounds import round_create, round_open
    from surveys.services.studies import study_load

    rng = np.random.default_rng(seed)
    slug = f"bench-{n_experts}x{n_items}-{int(time.time())}"
    study = study_load(data=study_data(slug, n_items, rng))
    groups = {g.code: g for g in study.groups.all()}
    experts = Expert.objects.bulk_create([
        Expert(study=study, name=f"Simulated expert {k:05d}", email=f"sim-{k:05d}@panel.invalid",
               group=groups[GROUPS[k % len(GROUPS)]]) for k in range(n_experts)], batch_size=5000)
    themes = list(study.themes.all())
    ExpertiseRating.objects.bulk_create([
        ExpertiseRating(expert=e, theme=t, level=int(level))
        for e, levels in zip(experts, rng.integers(1, 6, (n_experts, len(themes))), strict=True)
        for t, level in zip(themes, levels, strict=True)], batch_size=10000)
    items = list(study.items.all())
    rounds, previous = [], None
    for number in (1, 2):
        round_ = round_open(round_=round_create(study=study))
        now = timezone.now()
        responses = Response.objects.bulk_create([
            Response(round=round_, expert=e, status="submitted", submitted_at=now)
            for e in experts], batch_size=5000)
        frame, previous = simulate(items, n_experts, rng, previous)
        frame["response"] = np.array([r.pk for r in responses])[frame["expert"].to_numpy()]
        _load_answers(connection, frame)
        Round.objects.filter(pk=round_.pk).update(status=Round.Status.CLOSED, closed_at=now)
        rounds.append(round_)
        if number == 1:  # round 2 reads round 1's snapshot (median change); not timed
            run = aggregation_request(round_=round_, enqueue=False)
            round_aggregate(round_id=round_.pk, version=run.version)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return rounds[0], rounds[1]


def build_survey(n_respondents: int, n_items: int = 60, *, seed: int = 1):
    """An attitude survey (mode "survey": no expertise ratings, one round) of `n_items` items
    answered and submitted by `n_respondents` respondents in the five groups, closed; returns
    its round. Respondents, responses and answers are loaded with COPY on PostgreSQL (a 100,000
    respondent survey in well under a minute), so only the round's aggregation is measured."""
    import numpy as np
    from django.db import connection
    from django.utils import timezone

    from surveys.models import Expert, Response, Round
    from surveys.services.bulk import rows_insert
    from surveys.services.rounds import round_create, round_open
    from surveys.services.studies import study_load

    rng = np.random.default_rng(seed)
    slug = f"bench-survey-{n_respondents}x{n_items}-{int(time.time())}"
    study = study_load(data=study_data(slug, n_items, rng) | {"mode": "survey"})
    groups = {g.code: g for g in study.groups.all()}
    rows_insert(Expert, [Expert(study=study, name="", email="", group=groups[GROUPS[k % len(GROUPS)]])
                         for k in range(n_respondents)])
    experts = list(Expert.objects.filter(study=study).order_by("pk").values_list("pk", flat=True))
    round_ = round_open(round_=round_create(study=study))
    now = timezone.now()
    rows_insert(Response, [Response(round=round_, expert_id=e, status="submitted", version=1,
                                    started_at=now, submitted_at=now) for e in experts])
    by_expert = dict(Response.objects.filter(round=round_).values_list("expert_id", "pk"))
    frame, _ = simulate(list(study.items.all()), n_respondents, rng)
    frame["response"] = np.array([by_expert[e] for e in experts])[frame["expert"].to_numpy()]
    _load_answers(connection, frame)
    Round.objects.filter(pk=round_.pk).update(status=Round.Status.CLOSED, closed_at=now)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return Round.objects.get(pk=round_.pk)


def _load_answers(connection, frame) -> None:
    rows = frame.assign(text="", no_opinion=frame["value"].isna())[
        ["response", "item", "dimension", "value", "text", "no_opinion"]]
    columns = "(response_id, item_id, dimension, value, text, no_opinion)"
    if connection.vendor == "postgresql":
        buffer = io.StringIO()
        rows.to_csv(buffer, sep="\t", header=False, index=False, na_rep="\\N")
        connection.ensure_connection()
        with connection.connection.cursor() as raw:
            with raw.copy(f"COPY surveys_answer {columns} FROM STDIN") as copy:
                copy.write(buffer.getvalue())
    else:  # SQLite, for the small version in the test suite
        records = [(int(r), int(i), d, None if v != v else float(v), t, bool(n))
                   for r, i, d, v, t, n in rows.itertuples(index=False)]
        with connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO surveys_answer {columns} VALUES (%s, %s, %s, %s, %s, %s)",  # noqa: S608
                records)

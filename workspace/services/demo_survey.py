"""The demo's essay survey: twenty of the Delphi study's propositions and an attention check
put once to about 2,000 simulated respondents through four country collectors; the round stays
open, so the collector link the demo prints takes answers (the gap reads completed responses).

The study is imported and opened through the services an organizer's pages call; only
the respondents are written in bulk (one transaction: entries, respondents, responses,
answers), since 2,000 respondents through the page services would take minutes. Their values
are the simulation's: each country's `leaning` and `spread` per item plus a personal lean
(`surveys.services.simulation`); speeders (about 5 %) answer at random, fast; a few others
(about 3 %) miss the attention check. Every respondent's flags are the ones the survey's pages
and completion would give (`page_flags`, `completion_flags`): speeders by the collector's
`speeder_seconds`, straight-lining, the failed attention check. Once a collector's quota has
filled, the next few arrivals (already answering when it filled) end "quota full" with no
response and later ones are turned away at the link (only counted, as the pages count them);
a few are screened out or decline consent.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from surveys.models import Answer, Collector, Entry, Expert, Item, Response, Round, Study
from surveys.selectors_fielding import survey_pages
from surveys.services.fielding import completion_flags, page_flags, quota_full
from surveys.services.responses import ItemAnswer
from surveys.services.simulation import NO_OPINION, OFFSET, _start
from workspace.services.planning import round_next
from workspace.services.rounds import round_start

SURVEY_FILE = Path(settings.BASE_DIR) / "surveys" / "studies" / "euromd_2026_survey.yaml"
RESPONDENTS = 2000
SPEEDERS = 0.05  # share of completions by speeders
INATTENTIVE = 0.03  # share of the other completions that miss the attention check
SCREENED_OUT = 0.03  # share of arrivals who are not eligible
DECLINED = 0.02  # share of arrivals who decline consent
IN_FLIGHT = 5  # arrivals answering when their collector's quota filled: they end "quota full"
TURNED_AWAY = "turned_away"  # an arrival after those: turned away at the link, no entry
# Arrivals per collector, as shares of all (the first exceeds its quota of 500 at 2,000).
SHARES = {"ru": 0.28, "us": 0.26, "we": 0.24, "cee": 0.22}


def _language(group: str, k: int) -> str:
    return "ru" if group == "RU" or (group == "CEE" and k % 2) else "en"


def _arrivals(collector: Collector, n: int, rng: np.random.Generator) -> list[str]:
    """The final status of each of a collector's n arrivals, in arrival order (TURNED_AWAY
    for those the full quota sends away at the link)."""
    statuses: list[str] = []
    completed = late = 0
    for _k in range(n):
        draw = rng.random()
        if collector.quota is not None and completed >= collector.quota:
            late += 1
            statuses.append(Entry.Status.QUOTA_FULL if late <= IN_FLIGHT else TURNED_AWAY)
        elif draw < DECLINED:
            statuses.append(Entry.Status.DECLINED)
        elif draw < DECLINED + SCREENED_OUT:
            statuses.append(Entry.Status.SCREENED_OUT)
        else:
            statuses.append(Entry.Status.COMPLETED)
            completed += 1
    return statuses


def _values(items: list[Item], group: str, speeder: bool, rng: np.random.Generator) -> list:
    """One respondent's (item, value or None for no opinion) answers."""
    offset = float(rng.normal(0, OFFSET))
    out: list[tuple[Item, float | None]] = []
    for item in items:
        if speeder:
            out.append((item, float(rng.integers(1, 6))))
        elif rng.random() < NO_OPINION:
            out.append((item, None))
        else:
            out.append((item, _start(item, group, "", offset, rng)))
    return out


def _checked(checks: list[Item], speeder: bool, rng: np.random.Generator) -> list:
    """One respondent's answers to the attention checks (speeders answer at random, a few
    others miss them)."""
    careless = speeder or rng.random() < INATTENTIVE
    return [(item, float(rng.integers(1, 6)) if careless else item.instructed) for item in checks]


def _flags(pages: list[list[Item]], answered: list, seconds: float, speeder_seconds: int) -> dict:
    """The quality flags the survey's pages would give these answers, page by page, and the
    completion's speeder flag (surveys.services.fielding: the platform's own rules)."""
    answers = {item.code: ItemAnswer(values={"": value}, no_opinion=value is None)
               for item, value in answered}
    flags: dict = {}
    for number, page_items in enumerate(pages, start=1):
        flags = page_flags(flags, page=number, page_items=page_items, answers=answers,
                           honeypot=False)
    return completion_flags(flags, seconds, speeder_seconds)


def survey_simulate(*, round_: Round, n: int = RESPONDENTS, seed: int = 2026) -> int:
    """Write n simulated arrivals through the study's collectors into the open round (once:
    nothing when it has entries already); returns how many completed."""
    study = round_.study
    collectors = list(study.collectors.select_related("group").order_by("code"))
    if not collectors or Entry.objects.filter(collector__study=study).exists():
        return 0
    rng = np.random.default_rng(seed)
    asked = round_.items.filter(kind__in=Item.RATED).order_by("theme__position", "position")
    items, checks = list(asked.propositions()), [i for i in asked if not i.is_proposition]
    pages = survey_pages(round_)
    version = study.consent_texts.order_by("-created_at", "-pk").values_list(
        "version", flat=True).first() or ""
    now = timezone.now()
    plan = []  # (collector, status, language, seconds, speeder)
    turned_away: dict[int, int] = {}
    for collector in collectors:
        count = round(n * SHARES.get(collector.code, 1 / len(collectors)))
        for k, status in enumerate(_arrivals(collector, count, rng)):
            if status == TURNED_AWAY:
                turned_away[collector.pk] = turned_away.get(collector.pk, 0) + 1
                continue
            speeder = status == Entry.Status.COMPLETED and rng.random() < SPEEDERS
            seconds = float(rng.uniform(60, 200) if speeder else rng.lognormal(np.log(600), 0.35))
            plan.append((collector, status, _language(collector.group.code, k), seconds, speeder))
    with transaction.atomic():
        experts = Expert.objects.bulk_create([
            Expert(study=study, name="", email="", group_id=c.group_id, language=language)
            for c, _s, language, _t, _f in plan], batch_size=1000)
        entries: list[Entry] = []
        responses: list[tuple[Response, list]] = []
        answers: list[tuple] = []
        for k, ((collector, status, _l, seconds, speeder), expert) in enumerate(
                zip(plan, experts, strict=True)):
            done = now - dt.timedelta(seconds=float(rng.uniform(0, 6 * 3600)))
            start = done - dt.timedelta(seconds=seconds)
            entry = Entry(collector=collector, expert=expert, external_id=f"demo-{k + 1:05d}",
                          status=status)
            if status != Entry.Status.DECLINED:
                entry.consent_version, entry.consented_at = version, start
            else:
                entry.declined_at = start
            if status == Entry.Status.SCREENED_OUT:
                entry.screening = {"role": "other"}
            elif status in (Entry.Status.COMPLETED, Entry.Status.QUOTA_FULL):
                entry.screening, entry.started_at = {"role": "expert"}, start
                entry.pages_done = len(pages)
            if status == Entry.Status.COMPLETED:
                entry.completed_at = done
                answered = [*_values(items, collector.group.code, speeder, rng),
                            *_checked(checks, speeder, rng)]
                entry.flags = _flags(pages, answered, seconds, collector.speeder_seconds)
                responses.append((Response(round=round_, expert=expert, version=1,
                                           status=Response.Status.SUBMITTED, started_at=start,
                                           submitted_at=done), answered))
            entries.append(entry)
        Entry.objects.bulk_create(entries, batch_size=1000)
        for collector_id, count in turned_away.items():
            Collector.objects.filter(pk=collector_id).update(turned_away=count)
        Response.objects.bulk_create([r for r, _a in responses], batch_size=1000)
        for response, answered in responses:
            answers += [(response.pk, item.pk, "", value, "", value is None)
                        for item, value in answered]
        answers_insert(answers)
    return len(responses)


def answers_insert(rows: list[tuple]) -> None:
    """New answers as (response id, item id, dimension, value, text, no opinion) rows: by COPY
    on PostgreSQL, else one executemany (Django's per-value preparation of 40,000 Answer
    objects would take longer than the rest of the load)."""
    table = connection.ops.quote_name(Answer._meta.db_table)
    columns = ("response_id", "item_id", "dimension", "value", "text", "no_opinion")
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(columns))
            sql = f"INSERT INTO {table} ({names}) VALUES ({marks})"  # noqa: S608 (our names)
            cursor.executemany(sql, rows)


def demo_survey_round(*, study: Study, organizer, n: int = RESPONDENTS,
                      seed: int = 2026) -> tuple[Round, int]:
    """Open the survey's round and let the simulated respondents answer; the round stays open
    (the printed collector link takes answers; the organizer closes it, and the aggregation
    follows, on the Rounds page). Returns the round and how many completed now."""
    round_ = study.rounds.filter(number=1).first() or round_next(study=study, actor=organizer)
    if round_.status == Round.Status.DRAFT:
        round_ = round_start(round_=round_, actor=organizer)
    completed = 0
    if round_.status == Round.Status.OPEN:
        completed = survey_simulate(round_=round_, n=n, seed=seed)
    return round_, completed


def demo_survey_link(study: Study) -> Collector | None:
    """The collector whose link the demo prints: the United States' (read in English), else
    the first with room left under its quota."""
    collectors = sorted(study.collectors.all(), key=lambda c: (c.code != "us", c.code))
    return next((c for c in collectors if not quota_full(c)), None)

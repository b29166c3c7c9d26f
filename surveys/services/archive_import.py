"""Import of the pseudonymized JSON archive (surveys.exports.study_archive, the web download).

The archive holds no names or emails, so the imported study's experts are its pseudonyms: each
gets the pseudonym as name and an address under the reserved `.invalid` domain (RFC 2606) that
no mail can reach. Everything else the archive holds comes back: the definition and registered
rules, the rounds with their dates and items, the submitted answers (with "no opinion" and the
first answers before the feedback), open texts and rationales, expertise ratings and the
rounds' aggregates. A round trip (export, import, export) gives the same counts of each.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from surveys.errors import ServiceError, StudyFileError
from surveys.exports import ARCHIVE_FORMAT
from surveys.models import (
    Aggregate,
    Answer,
    Expert,
    ExpertiseRating,
    PreFeedbackAnswer,
    Rationale,
    Response,
    Round,
    Study,
)
from surveys.services.studies import study_load

PSEUDONYM_DOMAIN = "pseudonym.invalid"
AGGREGATE_FIELDS = ["n", "no_opinion", "median", "q1", "q3", "iqr", "mean", "sd", "pct_agree",
                    "pct_disagree", "distribution", "verdict", "stable", "median_change", "extra"]


class ResearchArchiveError(ServiceError):
    pass


def _when(value: str | None):
    return parse_datetime(value) if value else None


def _check(archive: dict, slug: str) -> None:
    if archive.get("format") != ARCHIVE_FORMAT or archive.get("version") != 1:
        raise ResearchArchiveError(f"Not an {ARCHIVE_FORMAT} archive of version 1.")
    missing = [k for k in ("study", "rounds", "experts", "answers", "texts") if k not in archive]
    if missing:
        raise ResearchArchiveError("The archive lacks " + ", ".join(missing) + ".")
    if Study.objects.filter(slug=slug).exists():
        raise ResearchArchiveError(
            f"A study with the slug {slug!r} exists; import under another slug.")


@transaction.atomic
def study_import_research_archive(*, archive: dict, slug: str | None = None) -> Study:
    """Create a study from its pseudonymized archive (under another slug if given); all or
    nothing."""
    slug = slug or archive.get("study", {}).get("slug", "")
    _check(archive, slug)
    try:
        study = study_load(data=dict(archive["study"], slug=slug))
    except StudyFileError as error:
        raise ResearchArchiveError("The archive's study definition does not load: "
                                   + "; ".join(error.problems)) from None
    try:
        _restore(study, archive)
    except (KeyError, TypeError) as error:
        raise ResearchArchiveError(f"The archive is inconsistent: it refers to {error} without "
                                   "holding it.") from None
    return study


def _restore(study: Study, archive: dict) -> None:
    rounds = _rounds(study, archive["rounds"])
    experts = _experts(study, archive["experts"], rounds)
    responses = _responses(rounds, experts, [*archive["answers"], *archive["texts"]])
    items = {i.code: i for i in study.items.all()}
    _answers(archive["answers"], archive["texts"], responses, items)
    themes = {t.code: t for t in study.themes.all()}
    ExpertiseRating.objects.bulk_create(
        ExpertiseRating(expert=experts[r["expert"]], theme=themes[r["theme"]], level=r["level"])
        for r in archive.get("expertise", []))
    Aggregate.objects.bulk_create(
        Aggregate(round=rounds[a["round"]], item=items[a["item"]], dimension=a["dimension"],
                  group=a["group"], **{f: _field(f, a.get(f)) for f in AGGREGATE_FIELDS})
        for a in archive.get("aggregates", []))


def _field(name: str, value: Any) -> Any:
    if name in {"distribution", "extra"}:
        return value or {}
    if name == "verdict":
        return value or ""
    return value


def _rounds(study: Study, records: list[dict]) -> dict[int, Round]:
    items = {i.code: i for i in study.items.all()}
    rounds = {}
    for r in records:
        round_ = Round.objects.create(
            study=study, number=r["number"], status=r["status"], opens_at=_when(r["opens_at"]),
            closes_at=_when(r["closes_at"]), closed_at=_when(r["closed_at"]),
            aggregated_at=_when(r["aggregated_at"]))
        round_.items.set(items[code] for code in r["items"])
        rounds[round_.number] = round_
    return rounds


def _experts(study: Study, records: list[dict], rounds: dict[int, Round]) -> dict[str, Expert]:
    groups = {g.code: g for g in study.groups.all()}
    created = Expert.objects.bulk_create(
        Expert(study=study, name=r["expert"], email=f"{r['expert'].lower()}@{PSEUDONYM_DOMAIN}",
               group=groups[r["group"]]) for r in records)
    # On the panel of every round (a round's panel is the experts added before it closed).
    opened = [r.opens_at for r in rounds.values() if r.opens_at is not None]
    if opened:
        Expert.objects.filter(pk__in=[e.pk for e in created]).update(created_at=min(opened))
    return {e.name: e for e in created}


def _responses(rounds: dict[int, Round], experts: dict[str, Expert],
               rows: Iterable[dict]) -> dict[tuple[int, str], Response]:
    keys = sorted({(row["round"], row["expert"]) for row in rows})
    now = timezone.now()
    created = Response.objects.bulk_create(
        Response(round=rounds[n], expert=experts[e], status=Response.Status.SUBMITTED,
                 submitted_at=rounds[n].closed_at or now) for n, e in keys)
    return dict(zip(keys, created, strict=True))


def _answers(answers: list[dict], texts: list[dict], responses: dict, items: dict) -> None:
    Answer.objects.bulk_create(
        Answer(response=responses[(a["round"], a["expert"])], item=items[a["item"]],
               dimension=a["dimension"], value=None if a["no_opinion"] else a["value"],
               no_opinion=bool(a["no_opinion"]))
        for a in answers)
    PreFeedbackAnswer.objects.bulk_create(
        PreFeedbackAnswer(response=responses[(a["round"], a["expert"])], item=items[a["item"]],
                          dimension=a["dimension"], value=a["pre_feedback_value"],
                          created_at=responses[(a["round"], a["expert"])].submitted_at)
        for a in answers if a.get("pre_feedback_value") is not None)
    Answer.objects.bulk_create(
        Answer(response=responses[(t["round"], t["expert"])], item=items[t["item"]], text=t["text"])
        for t in texts if t["type"] == "answer")
    Rationale.objects.bulk_create(
        Rationale(response=responses[(t["round"], t["expert"])], item=items[t["item"]],
                  text=t["text"])
        for t in texts if t["type"] == "rationale")

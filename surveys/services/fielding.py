"""A respondent's way through a survey's open link: entry, consent, screening, pages, completion.

Every write is one transaction. Completion locks the collector's row, so its quota is never
overfilled however many respondents finish at once; answers are stored by the questionnaire's
own services (surveys.services.responses).
"""

import hashlib
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.db import IntegrityError, transaction
from django.db.models import F, FilteredRelation, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from surveys.errors import ServiceError
from surveys.models import Collector, ConsentText, Entry, Expert, Item, Response, Round
from surveys.services.responses import ItemAnswer, questionnaire_save

STRAIGHT_LINING_MIN = 5  # rated items on a page that, all answered alike, flag the page
# The quality flags an entry may carry (Entry.flags' keys), in the order they are listed.
QUALITY_FLAGS = ("speeder", "straight_lining", "instructed_response", "honeypot")


def browser_hash(collector: Collector, browser_key: str) -> str:
    """The browser key as stored: hashed with the collector's token, so one browser's entries
    in different collectors (or surveys) cannot be linked by it."""
    return _hashed(collector.token, browser_key)


def _hashed(token: str, browser_key: str) -> str:
    return hashlib.sha256(f"{token}:{browser_key}".encode()).hexdigest()


def consent_current(study) -> ConsentText | None:
    """The consent text new respondents see: the newest version, or None (no consent page)."""
    return ConsentText.objects.filter(study=study).order_by("-created_at", "-pk").first()


def _first_status(study, *, consent: bool = True) -> str:
    if consent and consent_current(study) is not None:
        return Entry.Status.CONSENT
    if study.screening:
        return Entry.Status.SCREENING
    return Entry.Status.ANSWERING


def entry_of_browser(token: str, browser_key: str, round_: Round | None) -> Entry | None:
    """This browser's entry through the collector with the token, in one query: with its
    expert, its collector (with its study) and, as `entry.response`, the expert's
    response to `round_` (None when there is none, or no round). The response is read
    outside any transaction: a save checks its version again (entry_page_save)."""
    if not browser_key:
        return None
    # At most one row (browser_hash is unique per collector): no ordering, which first() adds.
    entries = Entry.objects.select_related("expert", "collector__study").filter(
        collector__token=token, browser_hash=_hashed(token, browser_key))
    if round_ is not None:
        entries = entries.annotate(
            answered=FilteredRelation("expert__responses", condition=Q(
                expert__responses__round_id=round_.pk)),
            response_pk=F("answered__id"), response_version=F("answered__version"),
            response_status=F("answered__status"), response_started=F("answered__started_at"))
    entry = next(iter(entries[:1]), None)
    if entry is not None:
        row: Any = entry  # with the annotations above, and `response` for the callers
        row.response = None
        if round_ is not None and row.response_pk is not None:
            row.response = Response(
                pk=row.response_pk, round=round_, expert=entry.expert,
                version=row.response_version, status=row.response_status,
                started_at=row.response_started)
    return entry


def entry_start(*, collector: Collector, browser_key: str, external_id: str,
                language: str) -> tuple[Entry | None, bool]:
    """This browser's entry through the collector, created on its first visit. Returns (the
    entry, False), or (the entry the external id already has, True) when that id came with
    another browser: one response per external id and per browser."""
    hashed = browser_hash(collector, browser_key)
    for _attempt in range(2):
        entry = Entry.objects.select_related("expert").filter(
            collector=collector, browser_hash=hashed).first()
        if entry is not None:
            return entry, False
        if external_id:
            taken = Entry.objects.filter(collector=collector, external_id=external_id).first()
            if taken is not None:
                return taken, True
        try:
            return _entry_create(collector, hashed, external_id, language), False
        except IntegrityError:
            continue  # the same browser or id arrived at once; read what the other one made
    raise ServiceError(_("Please reload the page."))


@transaction.atomic
def _entry_create(collector: Collector, hashed: str, external_id: str, language: str) -> Entry:
    study = collector.study
    name = "" if study.anonymous else f"{collector.code} {external_id}".strip()
    expert = Expert.objects.create(study=study, name=name[:200], email="",
                                   group_id=collector.group_id, language=language)
    status = _first_status(study)
    return Entry.objects.create(
        collector=collector, expert=expert, external_id=external_id, browser_hash=hashed,
        status=status,
        started_at=timezone.now() if status == Entry.Status.ANSWERING else None)


def _locked(entry: Entry, *statuses: str, related: bool = True) -> Entry:
    """The entry's row, locked, still in one of `statuses` (else a ServiceError); with
    `related`, with its expert and study read in the same query."""
    entries = Entry.objects.select_for_update(of=("self",))
    locked = (entries.select_related("expert__study") if related else entries).get(pk=entry.pk)
    if locked.status not in statuses:
        raise ServiceError(_("This step is already done."))
    return locked


@transaction.atomic
def entry_consent(*, entry: Entry, version: str, agree: bool) -> Entry:
    """Record consent to the version shown (its text is kept), or the respondent's decline."""
    study = entry.expert.study
    if not ConsentText.objects.filter(study=study, version=version).exists():
        raise ServiceError(_("This consent text is no longer shown; please read it again."))
    entry = _locked(entry, Entry.Status.CONSENT)
    now = timezone.now()
    if not agree:
        entry.status, entry.declined_at = Entry.Status.DECLINED, now
    else:
        entry.consent_version, entry.consented_at = version, now
        entry.status = _first_status(study, consent=False) if entry.collector_id else \
            Entry.Status.ANSWERING
        if entry.status == Entry.Status.ANSWERING:
            entry.started_at = now
    entry.save()
    return entry


def screening_parse(questions: list[dict], post) -> tuple[dict[str, str], dict[str, str]]:
    """The chosen option per screening question, and an error for each left unanswered or
    answered with an option it does not have."""
    answers, errors = {}, {}
    for question in questions:
        chosen = post.get(f"s-{question['code']}", "")
        if chosen not in {option["code"] for option in question["options"]}:
            errors[question["code"]] = _("Please choose one of the answers.")
        else:
            answers[question["code"]] = chosen
    return answers, errors


@transaction.atomic
def entry_screen(*, entry: Entry, answers: dict[str, str]) -> Entry:
    """Store the screening answers; the respondent goes on only if every answer is eligible."""
    questions = entry.expert.study.screening
    entry = _locked(entry, Entry.Status.SCREENING)
    eligible = all(answers.get(q["code"]) in q.get("eligible", []) for q in questions)
    now = timezone.now()
    entry.screening = answers
    entry.status = Entry.Status.ANSWERING if eligible else Entry.Status.SCREENED_OUT
    entry.started_at = now if eligible else None
    entry.save()
    return entry


def _straight_lined(items: Iterable[Item], answers: dict[str, ItemAnswer]) -> bool:
    """Every rated item of the page (at least STRAIGHT_LINING_MIN) has the same answer."""
    values = []
    for item in items:
        answer = answers.get(item.code)
        if (item.kind not in Item.RATED or not item.is_proposition or answer is None
                or answer.no_opinion):
            continue
        values += [v for v in answer.values.values() if v is not None]
    return len(values) >= STRAIGHT_LINING_MIN and len(set(values)) == 1


def instructed_failed(items: Iterable[Item], answers: dict[str, ItemAnswer]) -> set[str]:
    """The page's attention checks answered otherwise than instructed (no opinion and no
    answer included)."""
    failed = set()
    for item in items:
        if item.is_proposition:
            continue
        answer = answers.get(item.code)
        if answer is None or answer.no_opinion or answer.values.get("") != item.instructed:
            failed.add(item.code)
    return failed


def page_flags(flags: dict, *, page: int, page_items: list[Item],
               answers: dict[str, ItemAnswer], honeypot: bool) -> dict:
    """A respondent's quality flags after saving one page of answers: the one place they are
    computed, with `completion_flags` at the end (the pages and the demo's simulation)."""
    flags = dict(flags)
    pages = set(flags.pop("straight_lining", [])) - {page}
    if _straight_lined(page_items, answers):
        pages.add(page)
    if pages:
        flags["straight_lining"] = sorted(pages)
    codes = set(flags.pop("instructed_response", [])) - {i.code for i in page_items}
    codes |= instructed_failed(page_items, answers)
    if codes:
        flags["instructed_response"] = sorted(codes)
    if honeypot:
        flags["honeypot"] = True
    return flags


def completion_flags(flags: dict, seconds: float, speeder_seconds: int) -> dict:
    """The flags at completion: `speeder` (the seconds taken) when faster than the
    collector's `speeder_seconds` (0: no such flag)."""
    if speeder_seconds and seconds < speeder_seconds:
        return {**flags, "speeder": round(seconds, 1)}
    return flags


def page_conflicts(answers: dict[str, ItemAnswer]) -> dict[str, str]:
    """An error for each item answered with a rating and "No opinion" at once: the page
    cannot tell which one the respondent meant, so it keeps neither."""
    return {code: _("Choose a rating or “No opinion”, not both.")
            for code, answer in answers.items()
            if answer.no_opinion and any(v is not None for v in answer.values.values())}


def entry_page_save(*, entry: Entry, round_: Round, page: int, page_items: list[Item],
                    answers: dict[str, ItemAnswer], version: int, honeypot: bool = False,
                    advance: bool = True, finish: bool = False) -> Entry:
    """Save one page of answers as a draft (the response's version checked); with `finish`
    (the last page) also submit the response and complete the entry, unless the collector's
    quota is full: then the entry ends as "quota full" and its response stays a draft.

    The response as entry_of_browser read it (`entry.response`) is claimed by one
    conditional UPDATE on its version, which fails if anything changed it since. An item
    answered with a rating and "No opinion" saves nothing of the page (a ServiceError)."""
    conflicts = page_conflicts(answers)
    if conflicts:
        raise ServiceError(_("Some answers need correcting."), field_errors=conflicts)
    with transaction.atomic():
        collector = None
        if finish:  # the collector's lock first: completions of one collector queue here
            collector = Collector.objects.select_for_update(of=("self",)).get(entries=entry)
        read = entry.response if hasattr(entry, "response") else Response.objects.filter(
            round=round_, expert=entry.expert).first()
        # The entry's row alone: its expert (and the study) as the request read them.
        expert = entry.expert
        entry = _locked(entry, Entry.Status.ANSWERING, related=False)
        entry.expert = expert
        full = collector is not None and collector.quota is not None and (
            Entry.objects.filter(collector=collector, status=Entry.Status.COMPLETED).count()
            >= collector.quota)
        questionnaire_save(expert=entry.expert, round_=round_, answers=answers,
                           submit=finish and not full, expected_version=version,
                           items=page_items, response=read, joined=True)
        entry.flags = page_flags(entry.flags, page=page, page_items=page_items,
                                 answers=answers, honeypot=honeypot)
        if advance:  # "Next" (not "Back"): the next visit resumes after this page
            entry.pages_done = max(entry.pages_done, page)
        if collector is not None:
            _entry_finish(entry, collector, full)
        entry.save(update_fields=["pages_done", "flags", "status", "completed_at"])
    return entry


def _entry_finish(entry: Entry, collector: Collector, full: bool) -> None:
    now = timezone.now()
    if full:
        entry.status = Entry.Status.QUOTA_FULL
        return
    entry.status, entry.completed_at = Entry.Status.COMPLETED, now
    started = entry.started_at or entry.created_at
    entry.flags = completion_flags(entry.flags, (now - started).total_seconds(),
                                   collector.speeder_seconds)


def quota_full(collector: Collector) -> bool:
    """Whether the collector's quota is filled (a hint at the door; completion decides)."""
    return collector.quota is not None and Entry.objects.filter(
        collector=collector, status=Entry.Status.COMPLETED).count() >= collector.quota


def collector_turn_away(collector: Collector) -> None:
    """Count one arrival turned away at the link because the quota is full (no entry made)."""
    Collector.objects.filter(pk=collector.pk).update(turned_away=F("turned_away") + 1)


def redirect_with_id(url: str, param: str, external_id: str) -> str:
    """The organizer's redirect with the respondent's external id appended, and nothing else."""
    if not external_id:
        return url
    scheme, netloc, path, query, fragment = urlsplit(url)
    pairs = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if k != param]
    return urlunsplit((scheme, netloc, path, urlencode([*pairs, (param, external_id)]),
                       fragment))


def expert_consent_entry(expert: Expert) -> Entry | None:
    """A Delphi expert's consent record (an entry with no collector), if any."""
    return Entry.objects.filter(expert=expert, collector__isnull=True).first()


def expert_consent_needed(expert: Expert) -> bool:
    """Whether a Delphi expert must see the consent page before the questionnaire."""
    if not expert.study.consent_required or consent_current(expert.study) is None:
        return False
    entry = expert_consent_entry(expert)
    return entry is None or entry.consented_at is None


def expert_consent(*, expert: Expert, version: str, agree: bool) -> Entry:
    """Record a Delphi expert's consent (or decline) to the consent text's `version`."""
    try:
        with transaction.atomic():
            Entry.objects.get_or_create(expert=expert, defaults={"status": Entry.Status.CONSENT})
    except IntegrityError:
        pass  # a second tab made it at the same moment: the unique key keeps one
    with transaction.atomic():
        entry = Entry.objects.get(expert=expert)
        if entry.status == Entry.Status.DECLINED:  # they may change their mind
            Entry.objects.filter(pk=entry.pk).update(status=Entry.Status.CONSENT)
        return entry_consent(entry=entry, version=version, agree=agree)

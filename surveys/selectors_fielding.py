"""Reads for a survey's fielding: the respondent's pages (one theme each, no feedback) and the
organizer's fielding table per collector."""

from dataclasses import dataclass
from statistics import median

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from surveys.models import Collector, Entry, Item, Response, Round, Study
from surveys.questionnaire import ItemView, Part, Saved, _part_label, item_numbers
from surveys.selectors import _round_keys_raw, round_items_shared, round_with_keys
from surveys.selectors_fielding_times import completion_times


@dataclass
class SurveyPage:
    number: int
    total: int
    theme: object
    views: list[ItemView]
    version: int = 0  # the response's version (0 before the first save)

    @property
    def last(self) -> bool:
        return self.number == self.total


def survey_pages(round_: Round) -> list[list[Item]]:
    """The round's items, one list per theme, in questionnaire order."""
    pages: list[list[Item]] = []
    for item in round_items_shared(round_with_keys(round_)):
        if not pages or pages[-1][0].theme_id != item.theme_id:
            pages.append([])
        pages[-1].append(item)
    return pages


def survey_item_numbers(survey: Study) -> dict[str, str]:
    """Item code -> the number the respondents saw beside it ("2.3", `item_numbers` over the
    survey's pages, attention checks included); {} before the survey has a round."""
    round_ = survey.rounds.order_by("number").first()
    if round_ is None:
        return {}
    items = [item for page in survey_pages(round_) for item in page]
    numbers = item_numbers(items)
    return {item.code: numbers[item.pk] for item in items}


UNREAD = object()  # survey_page's `response` when the caller has not read it


def survey_page(expert, round_: Round, number: int, *, errors: dict | None = None,
                posted: dict | None = None, response=UNREAD) -> SurveyPage:
    """Page `number` (1-based) with the respondent's saved answers (or, after an error, the
    posted ones) and nothing of anyone else's. `response`: the respondent's response to the
    round (None: there is none yet) when the caller has read it (entry_of_browser does)."""
    errors = errors or {}
    round_ = round_with_keys(round_)
    pages = survey_pages(round_)
    items = pages[number - 1]
    numbers = item_numbers([item for page in pages for item in page])
    if response is UNREAD:
        response = Response.objects.filter(round=round_, expert=expert).first()
    # The respondent's comments (stored as reasons) come in the answers' own query.
    saved = Saved.read(expert, round_, response, item_ids=[i.pk for i in items], whys="joined")
    views = []
    for item in items:
        answer = (posted or {}).get(item.code)
        values = answer.values if answer is not None else saved.values.get(item.pk, {})
        parts = [Part(key=key, label=_part_label(item, key),
                      name=f"a-{item.code}.{key}" if key else f"a-{item.code}",
                      value=values.get(key), error=errors.get(f"{item.code}.{key}", ""))
                 for key in item.answer_keys()]
        views.append(ItemView(
            item=item, parts=parts, number=numbers[item.pk], error=errors.get(item.code, ""),
            no_opinion=answer.no_opinion if answer is not None else item.pk in saved.no_opinion,
            text=answer.text if answer is not None else saved.texts.get(item.pk, ""),
            rationale=answer.rationale if answer is not None else saved.whys.get(item.pk, "")))
    return SurveyPage(number=number, total=len(pages), theme=items[0].theme, views=views,
                      version=response.version if response is not None else 0)


def response_version(expert, round_: Round) -> int:
    response = Response.objects.filter(round=round_, expert=expert).values("version").first()
    return response["version"] if response else 0


def collector_is_open(collector: Collector, round_: Round | None) -> str:
    """"open", or why the link does not take answers: "not_yet" or "closed"."""
    now = timezone.now()
    if collector.opens_at and now < collector.opens_at:
        return "not_yet"
    closed = collector.closes_at is not None and now >= collector.closes_at
    if closed or round_ is None or round_.status != Round.Status.OPEN or (
            round_.closes_at is not None and round_.closes_at <= now):
        return "closed"
    return "open"


def survey_round(study: Study) -> Round | None:
    """The survey's one round when it is open, else None; with the keys round_with_keys adds
    (read in the same query), so a page's requests read them only once."""
    return (study.rounds.filter(status=Round.Status.OPEN).annotate(**_round_keys_raw())
            .order_by("number").first())


def survey_round_of_link(token: str) -> Round | None:
    """survey_round of the study whose collector has the token, found by the token alone (so
    the respondent's request reads it before, and apart from, the collector and the entry)."""
    keys = _round_keys_raw()
    del keys["current_id"]  # the open round is the one asked for (a subquery less to run)
    return (Round.objects.filter(study__collectors__token=token, status=Round.Status.OPEN)
            .annotate(**keys).order_by("number").first())


def fielding_table(study: Study, *, seconds: dict[int, list[float]] | None = None) -> list[dict]:
    """Per collector: entries (arrivals: everyone who opened the link, those turned away at it by
    a full quota included), consented, started, completed, screened out, declined, quota full
    (turned away at the link, and entries that finished once the quota was filled), flagged
    (completed with a quality flag), the quota's fill and the median completion time in
    seconds; two queries (one with `seconds`, each collector's completion times)."""
    status = Entry.Status
    rows = Collector.objects.filter(study=study).select_related("group").annotate(
        n_entries=Count("entries"),
        n_consented=Count("entries", filter=Q(entries__consented_at__isnull=False)),
        n_started=Count("entries", filter=Q(entries__started_at__isnull=False)),
        n_completed=Count("entries", filter=Q(entries__status=status.COMPLETED)),
        n_screened_out=Count("entries", filter=Q(entries__status=status.SCREENED_OUT)),
        n_declined=Count("entries", filter=Q(entries__status=status.DECLINED)),
        n_quota_full=Count("entries", filter=Q(entries__status=status.QUOTA_FULL)),
        n_flagged=Count("entries", filter=Q(entries__status=status.COMPLETED)
                        & ~Q(entries__flags={})),
    ).order_by("code")
    seconds = _completion_seconds(study) if seconds is None else seconds
    table = []
    for c in rows:
        fill = round(100 * c.n_completed / c.quota, 1) if c.quota else None
        times = seconds.get(c.pk, [])
        table.append({"collector": c, "code": c.code, "group": c.group.code,
                      "country": c.country, "entries": c.n_entries + c.turned_away,
                      "consented": c.n_consented,
                      "started": c.n_started,
                      "completed": c.n_completed, "screened_out": c.n_screened_out,
                      "declined": c.n_declined,
                      "quota_full": c.n_quota_full + c.turned_away,
                      "flagged": c.n_flagged, "quota": c.quota, "fill_pct": fill,
                      "median_seconds": round(median(times)) if times else None})
    return table


def _completion_seconds(study: Study) -> dict[int, list[float]]:
    """Seconds from the first question to completion, of each completed entry, by collector."""
    out: dict[int, list[float]] = {}
    for collector_id, started, completed in Entry.objects.filter(
            collector__study=study, status=Entry.Status.COMPLETED,
            started_at__isnull=False).values_list("collector_id", "started_at", "completed_at"):
        out.setdefault(collector_id, []).append((completed - started).total_seconds())
    return out


TOTALLED = ("entries", "consented", "started", "completed", "screened_out", "declined",
            "quota_full", "flagged")


def fielding_dashboard(study: Study) -> dict:
    """The Fielding page's figures, also the API's fielding/dashboard/: whether the survey is
    still fielding (its round open and a collector not closed), when this was read, the
    per-collector table, its totals and the completion-time distribution."""
    seconds = _completion_seconds(study)
    rows = fielding_table(study, seconds=seconds)
    round_ = survey_round(study)
    fielding = round_ is not None and any(
        collector_is_open(r["collector"], round_) != "closed" for r in rows)
    totals: dict = {key: sum(r[key] for r in rows) for key in TOTALLED}
    quotas = [r["quota"] for r in rows]
    totals["quota"] = sum(quotas) if quotas and None not in quotas else None
    totals["fill_pct"] = (round(100 * totals["completed"] / totals["quota"], 1)
                          if totals["quota"] else None)
    totals["quotas_full"] = sum(1 for r in rows if r["quota"] and r["completed"] >= r["quota"])
    times = completion_times(seconds,
                             {r["collector"].pk: r["collector"].speeder_seconds for r in rows})
    for r in rows:
        r["full"] = bool(r["quota"]) and r["completed"] >= r["quota"]
        r["times"] = times["collectors"][r["collector"].pk]
    overall = times["overall"]["median"]
    totals["median_seconds"] = round(overall) if overall is not None else None
    return {"open": fielding, "updated_at": timezone.now(), "rows": rows, "totals": totals,
            "times": times["overall"]}


# The quality flags (surveys.services.fielding.QUALITY_FLAGS) as the report lists them.
FLAG_NAMES = {"speeder": _("too fast"), "straight_lining": _("same answer throughout a page"),
              "instructed_response": _("failed the attention check"),
              "honeypot": _("hidden field filled")}

RESPONDENT_COLUMNS = ["expert", "collector", "country", "group", "status", "consent_version",
                      "seconds", "flags", "completed_at"]


def survey_respondents(study: Study) -> list[dict]:
    """One row per respondent who opened a collector: the pseudonym the exports give them (to
    join the answers), collector, country, group, status, consent version, seconds from the
    first question to completion, quality flags (";"-joined, "" when none) and completion
    time; never the external id, a name or an email."""
    from surveys.pseudonyms import pseudonym_map

    entries = list(Entry.objects.filter(collector__study=study).select_related(
        "collector", "expert__group").order_by("collector__code", "pk"))
    names = pseudonym_map(study_id=study.pk, expert_ids=[e.expert_id for e in entries])
    rows = []
    for e in entries:
        seconds = (round((e.completed_at - e.started_at).total_seconds(), 1)
                   if e.completed_at and e.started_at else None)
        rows.append({"expert": names[e.expert_id], "collector": e.collector.code,
                     "country": e.collector.country, "group": e.expert.group.code,
                     "status": e.status, "consent_version": e.consent_version,
                     "seconds": seconds, "flags": ";".join(sorted(e.flags)),
                     "completed_at": e.completed_at.isoformat() if e.completed_at else ""})
    return rows

"""Every figure a study publishes, one function each: the dashboard, the reports (HTML, PDF,
XLSX), the API, the exports and the round planning read them here, and nothing else computes
them. The definitions are docs/definitions.md; the statistics behind the verdicts are
`analysis.consensus.verdicts` and `analysis.stability.stable_under`, applied once, by the
aggregation, which stores them with the rule they used.
"""

from __future__ import annotations

from collections import defaultdict
from statistics import median

from django.db.models import F, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from analysis.consensus import AGREE, DISAGREE, NONE, item_verdict
from surveys.models import (
    Aggregate,
    AggregationRun,
    Expert,
    Response,
    ResponseRevision,
    Round,
    Study,
)
from surveys.selectors import round_items, round_previous
from workspace.models import ConsensusRule

CONSENSUS = (AGREE, DISAGREE)
ENDED = (Round.Status.CLOSED, Round.Status.AGGREGATED)


def rule_in_force(study: Study) -> ConsensusRule:
    """The study's registered rules, else an unsaved rule with the defaults (pk None: shown as
    "not registered"). The aggregation computes verdicts under this and stores it."""
    return ConsensusRule.objects.filter(study=study).first() or ConsensusRule(study=study)


def round_panel(round_: Round) -> QuerySet[Expert]:
    """The round's panel: experts added before the round closed and not withdrawn before it
    closed (for a round not closed yet: the panel now)."""
    experts = Expert.objects.filter(study_id=round_.study_id)
    if round_.status not in ENDED or round_.closed_at is None:
        return experts.filter(withdrawn_at__isnull=True)
    end = round_.closed_at
    return experts.filter(created_at__lt=end).filter(
        Q(withdrawn_at__isnull=True) | Q(withdrawn_at__gte=end))


def on_the_panel() -> Q:
    """Responses of experts on their round's panel (see `round_panel`): an expert withdrawn
    before a round closed counts in neither its panel nor its statistics."""
    return Q(expert__withdrawn_at__isnull=True) | Q(
        round__closed_at__isnull=False, expert__withdrawn_at__gte=F("round__closed_at"))


def participation(round_: Round) -> list[dict]:
    """Per stakeholder group, then the whole panel (group None): panel, invited, started,
    submitted, rate (% of the panel), attrition against the round before, and the median
    minutes to complete. `final` says whether the round has closed: until then `previous` says
    how many submitted the round before, and `lost` and `attrition` are not known yet."""
    panel = list(round_panel(round_).values_list("pk", "group_id", "token_issued_at"))
    # django-stubs cannot see the `first_submit` annotation: [misc] on values_list.
    annotated = _with_first_submit(Response.objects.filter(round=round_))
    responses = {expert: (status, started, first) for expert, status, started, first in
                 annotated.values_list("expert_id", "status", "started_at",  # type: ignore[misc]
                                       "first_submit")}
    previous = round_previous(round_)
    before = previous_submitters(round_)
    groups = dict(Expert.objects.filter(pk__in=before).values_list("pk", "group_id"))
    rows = []
    for group in [*round_.study.groups.all(), None]:
        members = [(pk, issued) for pk, g, issued in panel if group is None or g == group.pk]
        mine = [responses[pk] for pk, _ in members if pk in responses]
        submitted = {pk for pk, _ in members
                     if responses.get(pk, ("",))[0] == Response.Status.SUBMITTED}
        prior = {pk for pk in before if group is None or groups[pk] == group.pk}
        lost = len(prior - submitted) if round_.status in ENDED else None
        rows.append({
            "group": group, "panel": len(members),
            "invited": sum(1 for _, issued in members if issued is not None),
            "started": sum(1 for status, began, _ in mine
                           if began is not None or status == Response.Status.SUBMITTED),
            "submitted": len(submitted), "rate": _pct(len(submitted), len(members)),
            "previous": len(prior) if previous else None,
            "lost": lost if previous else None,
            "attrition": _pct(lost, len(prior)) if previous and lost is not None else None,
            "final": round_.status in ENDED, "median_minutes": _median_minutes(mine)})
    return rows


def previous_submitters(round_: Round) -> set[int]:
    """The experts attrition is counted against: those on the round before's panel who
    submitted it (none for round 1)."""
    previous = round_previous(round_)
    if previous is None:
        return set()
    return set(Response.objects.filter(
        round=previous, status=Response.Status.SUBMITTED,
        expert__in=round_panel(previous)).values_list("expert_id", flat=True))


def participation_total(round_: Round) -> dict:
    """The whole panel's row of `participation`."""
    return participation(round_)[-1]


def _pct(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _with_first_submit(responses: QuerySet[Response]) -> QuerySet[Response]:
    """Annotate `first_submit`: the response's first revision (one is written per submit and
    per later change), else `submitted_at` (responses submitted before revisions were kept)."""
    first = ResponseRevision.objects.filter(response=OuterRef("pk")).order_by("number")
    return responses.annotate(first_submit=Coalesce(
        Subquery(first.values("created_at")[:1]), F("submitted_at")))


def _median_minutes(responses: list[tuple]) -> float | None:
    """Median of first submit - first saved answer, in minutes, over (status, started_at,
    first_submit) of submitted responses that have both times in order."""
    spans = [(done - began).total_seconds() / 60 for status, began, done in responses
             if status == Response.Status.SUBMITTED and began is not None and done is not None
             and done >= began]
    return round(median(spans), 1) if spans else None


def round_rule(round_: Round) -> AggregationRun | None:
    """The finished run whose snapshot the round shows: its `rule` and `rule_revision` are the
    rules its verdicts are under."""
    return (AggregationRun.objects.filter(round=round_, status=AggregationRun.Status.DONE)
            .order_by("-version").first())


def item_verdicts(round_: Round) -> dict[int, dict]:
    """Per item of the round's snapshot: its verdict (analysis.consensus.item_verdict of its
    dimensions'), whether it is stable (every dimension; None when not known), and each
    dimension's verdict. A verdict is "agree", "disagree", "none" or None (no verdict)."""
    found: dict[int, list[tuple[str, str | None, bool | None]]] = defaultdict(list)
    for item_id, dimension, verdict, stable in Aggregate.objects.filter(
            round=round_, group="").order_by("dimension").values_list(
            "item_id", "dimension", "verdict", "stable"):
        found[item_id].append((dimension, verdict or None, stable))
    return {item_id: {"verdict": item_verdict([v for _, v, _ in dims]),
                      "stable": _all([s for _, _, s in dims]),
                      "dimensions": {d: v for d, v, _ in dims}} for item_id, dims in found.items()}


def _all(flags: list[bool | None]) -> bool | None:
    """False if any is False, True if all are True, else unknown."""
    if any(flag is False for flag in flags):
        return False
    return True if flags and all(flags) else None


def verdict_counts(round_: Round) -> dict:
    """How many of the round's items reached each verdict (items, not dimensions: an item rated
    on several dimensions is "agree" or "disagree" only when every dimension is; "no verdict"
    counts every other item of the round, open questions included), how many are stable, the
    rule revision they are under (None: no rule was registered), and under `rows` the same
    verdicts counted per item and dimension, as the report's tables and dissent register list
    them."""
    aggregated = round_.status == Round.Status.AGGREGATED
    verdicts = item_verdicts(round_) if aggregated else {}
    given = [v["verdict"] for v in verdicts.values() if v["verdict"] is not None]
    run = round_rule(round_) if verdicts else None
    agree, disagree = given.count(AGREE), given.count(DISAGREE)
    rows = [d for v in verdicts.values() for d in v["dimensions"].values() if d is not None]
    return {
        "items": len(given), "agree": agree, "disagree": disagree, "consensus": agree + disagree,
        "none": given.count(NONE),
        "no_verdict": (round_.items.propositions().count() - len(given)) if aggregated else 0,
        "stable": sum(1 for v in verdicts.values() if v["stable"]),
        "stability_items": sum(1 for v in verdicts.values() if v["stable"] is not None),
        "rule_revision": run.rule_revision if run else None,
        # The same verdicts counted as the tables list them: one row per item and dimension.
        "rows": {"n": len(rows), "agree": rows.count(AGREE), "disagree": rows.count(DISAGREE),
                 "none": rows.count(NONE)},
    }


def stopping_status(study: Study, *, through: Round | None = None) -> dict:
    """Whether the registered stopping rule (`rule`: its kind, with `max_rounds`) says the
    study can stop after its last aggregated round (up to `through`, the report's round): every
    item with a verdict or a stability verdict has consensus or is stable."""
    rule = ConsensusRule.objects.filter(study=study).first()
    aggregated = study.rounds.filter(status=Round.Status.AGGREGATED)
    if through is not None:
        aggregated = aggregated.filter(number__lte=through.number)
    last = aggregated.order_by("-number").first()
    if rule is None or last is None:
        return {"known": False}
    verdicts = item_verdicts(last)
    rated = [v for v in verdicts.values() if v["verdict"] is not None or v["stable"] is not None]
    settled = sum(1 for v in rated if v["verdict"] in CONSENSUS or v["stable"])
    reached_max = last.number >= rule.max_rounds
    converged = bool(rated) and settled == len(rated)
    stop = reached_max or (rule.stopping == ConsensusRule.Stopping.CONVERGED and converged)
    return {"known": True, "round": last.number, "settled": settled, "rated": len(rated),
            "reached_max": reached_max, "converged": converged, "stop": stop,
            "rule": rule.stopping, "max_rounds": rule.max_rounds}


def round_figures(round_: Round) -> dict:
    """Everything published about a round, as the dashboard, the report, the API and the XLSX
    show it: participation per group and for the panel, the verdict counts and per-item
    verdicts (aggregated rounds), the run whose snapshot they come from (its rule revision),
    and what the stopping rule says."""
    aggregated = round_.status == Round.Status.AGGREGATED
    verdicts = item_verdicts(round_) if aggregated else {}
    blank: dict = {"verdict": None, "stable": None, "dimensions": {}}
    items = [{"item": item, **verdicts.get(item.pk, blank)} for item in round_items(round_)
             if item.is_proposition]
    rows = participation(round_)
    return {"round": round_, "participation": rows, "panel": rows[-1],
            "counts": verdict_counts(round_), "verdicts": items if aggregated else [],
            "run": round_rule(round_) if aggregated else None,
            "stopping": stopping_status(round_.study)}


def round_flow(round_: Round) -> list[dict]:
    """The participant flow of a round: `participation`'s rows (per group, then the whole
    panel), each with how the panel changed since the round before closed (round 1: since the
    start): `joined` (experts added since), `withdrawn` (experts who withdrew since, before
    this round closed), so that this round's panel is the round before's + joined - withdrawn;
    and `lost` split into `lost_withdrawn` (of them) and `lost_absent` (still on the panel, no
    submitted response), None while `lost` is not known. Every expert on the panel is in one
    box: `not_submitted` (panel - submitted) = `lost_absent` (submitted the round before) +
    `absent_again` (on the round before's panel too, submitted neither) + `absent_new` (joined
    since the round before closed; in round 1, every one of them)."""
    previous = round_previous(round_)
    start = previous.closed_at if previous is not None else None
    end = round_.closed_at if round_.status in ENDED else None
    experts = Expert.objects.filter(study_id=round_.study_id)
    if end is not None:
        experts = experts.filter(created_at__lt=end)
    joined = experts if start is None else experts.filter(created_at__gte=start)
    left = experts.filter(withdrawn_at__isnull=False)
    left = left if start is None else left.filter(withdrawn_at__gte=start)
    left = left if end is None else left.filter(withdrawn_at__lt=end)
    joined_groups = list(joined.values_list("group_id", flat=True))
    withdrawn = dict(left.values_list("pk", "group_id"))
    before = previous_submitters(round_)
    missing = _not_submitted(round_)
    earlier = set(round_panel(previous).values_list("pk", flat=True)) if previous else set()
    rows = []
    for row in participation(round_):
        group = row["group"]
        mine = [g for g in withdrawn.values() if group is None or g == group.pk]
        lost_withdrawn = sum(1 for pk, g in withdrawn.items()
                             if pk in before and (group is None or g == group.pk))
        absent = [pk for pk, g in missing.items() if group is None or g == group.pk]
        rows.append(row | {
            "not_submitted": row["panel"] - row["submitted"],
            "absent_again": sum(1 for pk in absent if pk in earlier and pk not in before),
            "absent_new": sum(1 for pk in absent if pk not in earlier),
            "joined": sum(1 for g in joined_groups if group is None or g == group.pk),
            "withdrawn": len(mine),
            "lost_withdrawn": lost_withdrawn if row["lost"] is not None else None,
            "lost_absent": row["lost"] - lost_withdrawn if row["lost"] is not None else None})
    return rows


def _not_submitted(round_: Round) -> dict[int, int]:
    """The round's panel who did not submit it: expert -> group."""
    done = Response.objects.filter(round=round_, status=Response.Status.SUBMITTED)
    return dict(round_panel(round_).exclude(pk__in=done.values("expert_id"))
                .values_list("pk", "group_id"))

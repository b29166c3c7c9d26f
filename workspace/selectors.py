"""Reads for the workspace: access, verdicts per item, the dashboard's figures, lineage."""

from statistics import median

import pandas as pd
from django.db.models import Exists, F, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce, Concat
from django.http import Http404
from django.utils.translation import gettext as _

from analysis.consensus import rule_met, study_rule
from analysis.stability import stability
from surveys.models import (
    Aggregate,
    AggregationRun,
    Expert,
    Item,
    Response,
    ResponseRevision,
    Round,
    StakeholderGroup,
    Study,
    StudyMember,
    Theme,
)
from surveys.selectors import answers_frame, study_for_member
from workspace.models import ConsensusRule, ItemOrigin, Message

WRITE = (StudyMember.Role.OWNER, StudyMember.Role.ORGANIZER)
READ = (*WRITE, StudyMember.Role.ANALYST)
RATED = (Item.Kind.AGREEMENT, Item.Kind.DIMENSIONS)


def study_for_organizer(*, user, slug: str) -> Study:
    """The study if the user owns or organizes it, else 404 (analysts included)."""
    return study_for_member(user=user, slug=slug, roles=WRITE)


def study_for_reader(*, user, slug: str) -> Study:
    return study_for_member(user=user, slug=slug, roles=READ)


def study_for_owner(*, user, slug: str) -> Study:
    return study_for_member(user=user, slug=slug, roles=(StudyMember.Role.OWNER,))


def member_role(study: Study, user) -> str:
    return StudyMember.objects.filter(study=study, user=user).values_list("role", flat=True).first() or ""


def round_of(study: Study, number: int) -> Round:
    round_ = study.rounds.filter(number=number).first()
    if round_ is None:
        raise Http404
    return round_


def expert_of(study: Study, pk: int) -> Expert:
    expert = study.experts.filter(pk=pk).select_related("group").first()
    if expert is None:
        raise Http404
    return expert


def item_of(study: Study, code: str) -> Item:
    item = study.items.filter(code=code).select_related("theme").first()
    if item is None:
        raise Http404
    return item


def group_of(study: Study, code: str) -> StakeholderGroup:
    group = study.groups.filter(code=code).first()
    if group is None:
        raise Http404
    return group


def theme_of(study: Study, code: str) -> Theme:
    theme = study.themes.filter(code=code).first()
    if theme is None:
        raise Http404
    return theme


def member_of(study: Study, pk: int) -> StudyMember:
    member = study.members.filter(pk=pk).select_related("user", "study").first()
    if member is None:
        raise Http404
    return member


def members(study: Study):
    """The study's staff, owners first, then by username."""
    order = {StudyMember.Role.OWNER: 0, StudyMember.Role.ORGANIZER: 1, StudyMember.Role.ANALYST: 2}
    rows = list(study.members.select_related("user"))
    return sorted(rows, key=lambda m: (order.get(m.role, 3), m.user.get_username()))


def rule_of(study: Study):
    """The registered rule, or the study's own thresholds when none is registered yet."""
    rule = ConsensusRule.objects.filter(study=study).first()
    if rule is not None:
        return rule
    return study_rule(agree_pct=study.consensus_agree_pct, iqr_max=study.consensus_iqr_max)


def _combine(values: list) -> bool | None:
    """All dimensions together: False if any is False, True if all are True, else unknown."""
    flags = [None if v is None or pd.isna(v) else bool(v) for v in values]
    if any(flag is False for flag in flags):
        return False
    return True if flags and all(flags) else None


def item_verdicts(round_: Round) -> dict[int, dict]:
    """Per item of an aggregated round: consensus and stability under the registered rules.

    An item has consensus (or is stable) when every dimension has; None means the rule does not
    apply (an estimate under an agreement rule, a first round for stability).
    """
    rows = list(Aggregate.objects.filter(round=round_, group="").values(
        "item_id", "dimension", "n", "pct_agree", "iqr", "sd", "extra"))
    if not rows:
        return {}
    summary = pd.DataFrame([{**{k: r[k] for k in ("item_id", "dimension", "n")},
                             "pct_agree": r["pct_agree"], "iqr": r["iqr"], "sd": r["sd"],
                             "di": (r["extra"] or {}).get("di")} for r in rows])
    rule = rule_of(round_.study)
    summary["consensus"] = rule_met(summary, rule).astype(object).where(
        lambda s: s.notna(), None)
    stable = _stored_stability(rows, rule)
    if stable is None:  # a snapshot written before the aggregation stored stability
        stable = _stability(round_, rule)
    out: dict[int, dict] = {}
    for item_id, part in summary.groupby("item_id"):
        consensus = _combine(list(part["consensus"]))
        flags = [stable.get((item_id, dim)) for dim in part["dimension"]]
        out[int(item_id)] = {"consensus": consensus, "stable": _combine(flags)}
    return out


def _stability_rule(rule) -> dict:
    return rule.stability_dict() if isinstance(rule, ConsensusRule) else {
        "kind": "wilcoxon", "p_above": 0.05}


def _verdict(pairs, wilcoxon_p, distribution_change, definition: dict) -> bool | None:
    if not pairs:
        return None
    if definition["kind"] == "wilcoxon":
        # No expert moved at all: nothing to test, and nothing changed.
        return True if wilcoxon_p is None or pd.isna(wilcoxon_p) else bool(
            wilcoxon_p > definition["p_above"])
    return bool(distribution_change < definition["change_below_pct"])


def _stored_stability(rows: list[dict], rule) -> dict[tuple[int, str], bool | None] | None:
    """Stability under the rule from the figures the aggregation stored on the panel rows
    (paired with the round before); None when no row has them (a first round, or an old
    snapshot), so the caller computes them from the answers."""
    stored = [r for r in rows if "stability_pairs" in (r["extra"] or {})]
    if not stored:
        return None
    definition = _stability_rule(rule)
    return {(r["item_id"], r["dimension"]): _verdict(
        r["extra"]["stability_pairs"], r["extra"].get("wilcoxon_p"),
        r["extra"].get("distribution_change"), definition) for r in stored}


def _stability(round_: Round, rule) -> dict[tuple[int, str], bool | None]:
    previous = Round.objects.filter(study_id=round_.study_id, number=round_.number - 1).first()
    if previous is None:
        return {}
    frame = answers_frame(round_ids=[previous.pk, round_.pk])
    frame = frame[frame["kind"].isin(list(RATED))]
    if frame.empty:
        return {}
    table = stability(frame, from_round=previous.number, to_round=round_.number)
    definition = _stability_rule(rule)
    codes = dict(Item.objects.filter(study_id=round_.study_id).values_list("code", "pk"))
    return {(codes[row.item], row.dimension): _verdict(
        row.n_pairs, row.wilcoxon_p, row.distribution_change, definition)
        for row in table.itertuples()}


def stopping_status(study: Study) -> dict:
    """Whether the registered stopping rule says the study can stop after its last aggregated round."""
    rule = ConsensusRule.objects.filter(study=study).first()
    last = study.rounds.filter(status=Round.Status.AGGREGATED).order_by("-number").first()
    if rule is None or last is None:
        return {"known": False}
    verdicts = item_verdicts(last)
    rated = [v for v in verdicts.values() if v["consensus"] is not None or v["stable"] is not None]
    settled = sum(1 for v in rated if v["consensus"] or v["stable"])
    reached_max = last.number >= rule.max_rounds
    converged = bool(rated) and settled == len(rated)
    stop = reached_max or (rule.stopping == ConsensusRule.Stopping.CONVERGED and converged)
    return {"known": True, "round": last.number, "settled": settled, "rated": len(rated),
            "reached_max": reached_max, "converged": converged, "stop": stop}


def _invited(study: Study):
    return study.experts.filter(withdrawn_at__isnull=True, token_issued_at__isnull=False)


def response_table(round_: Round) -> list[dict]:
    """Per stakeholder group and for the whole panel: invited, started, submitted, %, attrition,
    and the median minutes to complete.

    Started: the expert saved a first answer in this round (`Response.started_at`), or the
    response is submitted (a Real-Time snapshot carries submitted responses forward).
    Attrition: of the experts who submitted the previous round, those who have not submitted
    this one.
    """
    study = round_.study
    previous = Round.objects.filter(study=study, number=round_.number - 1).first()
    responses = {expert: (status, started, submitted) for expert, status, started, submitted in
                 _with_first_submit(Response.objects.filter(round=round_)).values_list(
                     "expert_id", "status", "started_at", "first_submit")}
    before = set(Response.objects.filter(round=previous, status=Response.Status.SUBMITTED)
                 .values_list("expert_id", flat=True)) if previous else set()
    invited = list(_invited(study).values_list("pk", "group_id"))
    rows = []
    for group in [*study.groups.all(), None]:
        ids = {pk for pk, g in invited if group is None or g == group.pk}
        mine = [responses[pk] for pk in ids if pk in responses]
        started = sum(1 for status, began, _s in mine
                      if began is not None or status == Response.Status.SUBMITTED)
        submitted = sum(1 for status, _b, _s in mine if status == Response.Status.SUBMITTED)
        prior = before & ids
        lost = sum(1 for pk in prior if responses.get(pk, ("",))[0] != Response.Status.SUBMITTED)
        rows.append({"group": group, "invited": len(ids), "started": started,
                     "submitted": submitted, "rate": _pct(submitted, len(ids)),
                     "previous": len(prior) if previous else None,
                     "lost": lost if previous else None,
                     "attrition": _pct(lost, len(prior)) if previous else None,
                     "median_minutes": _median_minutes(mine)})
    return rows


def _pct(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _with_first_submit(responses):
    """Annotate `first_submit`: when the expert first submitted the response.

    `submitted_at` moves on every revision, so the first submit is the response's first
    revision (one is written per submit and per later change of a submitted response);
    `submitted_at` only for a response without revisions (submitted before they were kept).
    """
    first = ResponseRevision.objects.filter(response=OuterRef("pk")).order_by("number")
    return responses.annotate(first_submit=Coalesce(
        Subquery(first.values("created_at")[:1]), F("submitted_at")))


def _median_minutes(responses) -> float | None:
    """Median of first submit - started_at in minutes over (status, started_at, first_submit)
    triples of submitted responses that have both times (in order)."""
    spans = [(done - began).total_seconds() / 60 for status, began, done in responses
             if status == Response.Status.SUBMITTED and began is not None and done is not None
             and done >= began]
    return round(median(spans), 1) if spans else None


def median_minutes_to_complete(round_: Round) -> float | None:
    """Median minutes from an expert's first saved answer to their first submit, over the
    round's submitted responses (later revisions do not lengthen it; responses started before
    `started_at` existed are left out)."""
    return _median_minutes(_with_first_submit(Response.objects.filter(round=round_)).values_list(
        "status", "started_at", "first_submit"))


def aggregation_progress(round_: Round) -> AggregationRun | None:
    return round_.aggregation_runs.order_by("-version").first()


def message_log(study: Study, *, failed_only: bool = False):
    """The study's sends, newest first; `resent` marks a failed one sent again since (its retry
    is queued or sent). `failed_only`: the failures still waiting for the organizer."""
    retried = Message.objects.filter(key__startswith=Concat(OuterRef("key"), Value("#"))).exclude(
        status=Message.Status.FAILED)
    messages = Message.objects.filter(study=study).select_related("expert", "round").annotate(
        resent=Exists(retried))
    if failed_only:
        return messages.filter(status=Message.Status.FAILED, resent=False)
    return messages


def panel(study: Study):
    """The panel with each expert's last invitation and whether they submitted the current round."""
    return study.experts.select_related("group").order_by("group__position", "name")


def panel_status(study: Study, round_: Round | None) -> dict[int, dict]:
    invited = Message.objects.filter(study=study, kind=Message.Kind.INVITATION)
    status = {}
    for expert_id, state in invited.values_list("expert_id", "status"):
        if status.get(expert_id, {}).get("invitation") != Message.Status.SENT:
            status.setdefault(expert_id, {})["invitation"] = state
    if round_ is not None:
        for expert_id, state in Response.objects.filter(round=round_).values_list("expert_id",
                                                                                  "status"):
            status.setdefault(expert_id, {})["response"] = state
    return status


def origins_for_round(round_: Round) -> dict[int, list[ItemOrigin]]:
    out: dict[int, list[ItemOrigin]] = {}
    for origin in ItemOrigin.objects.filter(round=round_).select_related(
            "source_item", "source_round"):
        out.setdefault(origin.item_id, []).append(origin)
    return out


def item_history(item: Item) -> list[ItemOrigin]:
    """The item's provenance, newest first, following its sources back to round 1."""
    history, frontier, visited = [], {item.pk}, set()
    while frontier:
        visited |= frontier
        origins = list(ItemOrigin.objects.filter(item_id__in=frontier).select_related(
            "item", "round", "source_item", "source_round").order_by("-round__number", "pk"))
        history += origins
        frontier = {o.source_item_id for o in origins if o.source_item_id} - visited
    return sorted(history, key=lambda o: (-o.round.number, o.pk))


def rules_for_report(study: Study) -> dict | None:
    """The registered rules and every change made after round 1 opened (with its reason and
    what it changed), for reports to print beside the results; None when no rule is registered.

    `lines` and each change's `changed` (pairs of before and after) are sentences in the active
    language.
    """
    rule = ConsensusRule.objects.filter(study=study).first()
    if rule is None:
        return None
    changes = []
    for c in rule.changes.filter(after_lock=True).order_by("revision"):
        before, after = rule_lines(c.before), rule_lines(c.after)
        changes.append({"revision": c.revision, "when": c.changed_at, "reason": c.reason,
                        "before": c.before, "after": c.after,
                        "changed": [(b, a) for b, a in zip(before, after, strict=True) if b != a]})
    late = bool(changes) and changes[0]["revision"] == 1  # registered after round 1 opened
    return {"rule": rule.snapshot(), "revision": rule.revision, "registered_at": rule.registered_at,
            "registered_late": late, "locked_at": rule.locked_at,
            "lines": rule_lines(rule.snapshot()), "changes_after_lock": changes}


def _number(value) -> str:
    return f"{float(value):g}" if value is not None else "?"


def rule_lines(snapshot: dict) -> list[str]:
    """The consensus, stability and stopping rules of a ConsensusRule.snapshot() as three
    sentences (three empty strings for an empty snapshot: no rule before the first)."""
    if not snapshot:
        return ["", "", ""]
    consensus, stability, stopping = (snapshot.get(k, {}) for k in ("consensus", "stability",
                                                                      "stopping"))
    pct, iqr = _number(consensus.get("agree_pct")), _number(consensus.get("iqr_max"))
    definition = consensus.get("definition") or consensus.get("kind")
    texts = {
        "agreement": _("Consensus: at least %(pct)s %% of valid answers in the top boxes."),
        "iqr": _("Consensus: an interquartile range of at most %(iqr)s."),
        "combined": _("Consensus: at least %(pct)s %% of valid answers in the top boxes and an "
                      "interquartile range of at most %(iqr)s."),
        "rand_ucla": _("Consensus: RAND/UCLA, no disagreement (DI at most 1) on a 9-point "
                       "scale."),
    }
    first = texts.get(definition, _("Consensus: %(rule)s.") % {"rule": definition})
    if definition in texts:
        first = first % {"pct": pct, "iqr": iqr}
    if stability.get("kind") == "wilcoxon":
        second = _("Stability: Wilcoxon signed-rank p above %(p)s between rounds.") % {
            "p": _number(stability.get("p_above"))}
    else:
        second = _("Stability: the distribution changes by less than %(pct)s %% between "
                   "rounds.") % {"pct": _number(stability.get("change_below_pct"))}
    if stopping.get("kind") == "max_rounds":
        third = _("Stopping: after at most %(n)s rounds.") % {"n": stopping.get("rounds")}
    else:
        third = _("Stopping: when every item has reached consensus or stability, after at most "
                  "%(n)s rounds.") % {"n": stopping.get("max_rounds")}
    return [first, second, third]


def snapshots(study: Study, *, limit: int = 50) -> list[dict]:
    """A Real-Time study's dated snapshots (its closed live rounds), newest first, with how many
    items reached consensus and stability (against the snapshot before) under the rules."""
    rows = []
    for r in study.rounds.filter(status__in=[Round.Status.CLOSED, Round.Status.AGGREGATED]
                                 ).order_by("-number")[:limit]:
        verdicts = item_verdicts(r) if r.status == Round.Status.AGGREGATED else {}
        rows.append({"round": r, "taken_at": r.closed_at,
                     "aggregated": r.status == Round.Status.AGGREGATED,
                     "items": len(verdicts),
                     "consensus": sum(1 for v in verdicts.values() if v["consensus"]),
                     "stable": sum(1 for v in verdicts.values() if v["stable"]),
                     "first": r.number == 1})
    return rows

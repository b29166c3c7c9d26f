"""Reads for the workspace: access, staff, sends, the registered rules as text, lineage.

The figures a study publishes (participation, verdicts, stability, stopping) are in
surveys.figures.
"""

from django.db.models import Exists, OuterRef, QuerySet, Value
from django.db.models.functions import Concat
from django.http import Http404
from django.utils.translation import gettext as _

from surveys.figures import verdict_counts
from surveys.models import (
    AuditEvent,
    Expert,
    Item,
    Response,
    Round,
    StakeholderGroup,
    Study,
    StudyMember,
    Theme,
)
from surveys.selectors import study_for_member
from workspace.models import ConsensusRule, ItemOrigin, Message

WRITE = (StudyMember.Role.OWNER, StudyMember.Role.ORGANIZER)
READ = (*WRITE, StudyMember.Role.ANALYST)


def study_for_organizer(*, user, slug: str) -> Study:
    """The study if the user owns or organizes it, else 404 (analysts included)."""
    return study_for_member(user=user, slug=slug, roles=WRITE)


def study_for_reader(*, user, slug: str) -> Study:
    return study_for_member(user=user, slug=slug, roles=READ)


def study_for_owner(*, user, slug: str) -> Study:
    return study_for_member(user=user, slug=slug, roles=(StudyMember.Role.OWNER,))


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
    boxes = {
        "either": _("the top boxes (agreement) or the bottom boxes (rejection)"),
        "agree": _("the top boxes (agreement)"),
        "disagree": _("the bottom boxes (rejection)"),
    }.get(consensus.get("direction", "either"), "?")
    texts = {
        "agreement": _("Consensus: at least %(pct)s %% of valid answers in %(boxes)s, with the "
                       "median there."),
        "iqr": _("Consensus: an interquartile range of at most %(iqr)s, with the median in "
                 "%(boxes)s."),
        "combined": _("Consensus: at least %(pct)s %% of valid answers in %(boxes)s and an "
                      "interquartile range of at most %(iqr)s."),
        "rand_ucla": _("Consensus: RAND/UCLA, no disagreement (DI at most 1) on a 9-point "
                       "scale, with the median in %(boxes)s."),
    }
    first = texts.get(definition, _("Consensus: %(rule)s.") % {"rule": definition})
    if definition in texts:
        first = first % {"pct": pct, "iqr": iqr, "boxes": boxes}
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
        rows.append({"round": r, "taken_at": r.closed_at,
                     "aggregated": r.status == Round.Status.AGGREGATED,
                     "counts": verdict_counts(r), "first": r.number == 1})
    return rows


def shown_round(study: Study, number: int | None) -> Round | None:
    """The round the dashboard shows: the given one (None if there is none), else the open
    one, else the latest."""
    rounds = study.rounds.order_by("-number")
    if number is not None:
        return rounds.filter(number=number).first()
    return rounds.filter(status=Round.Status.OPEN).first() or rounds.first()


def registered_rule(study: Study) -> ConsensusRule | None:
    """The study's registered rules (None until they are registered)."""
    return ConsensusRule.objects.filter(study=study).first()


def audit_events(study: Study) -> QuerySet[AuditEvent]:
    """Every recorded action on the study, newest first, with who did it."""
    return AuditEvent.objects.filter(study=study).select_related("actor").order_by(
        "-created_at", "-pk")

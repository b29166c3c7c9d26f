"""Reads: everything views, commands and tasks need to know, as QuerySets or DataFrames."""

import pandas as pd
from django.db.models import Count, Q, QuerySet
from django.http import Http404

from surveys.models import Aggregate, Answer, Expert, Item, Response, Round, Study, StudyMember

LONG_COLUMNS = ["expert", "round", "item", "dimension", "group", "value", "kind"]


def study_for_member(*, user, slug: str, roles: tuple[str, ...] | None = None) -> Study:
    """Return the study if the user has a role in it, else 404 (never 403: no existence leak)."""
    if not user.is_authenticated:
        raise Http404
    members = StudyMember.objects.filter(study__slug=slug, user=user)
    if roles:
        members = members.filter(role__in=roles)
    member = members.select_related("study").first()
    if member is None:
        raise Http404
    return member.study


def studies_for_user(user) -> QuerySet[StudyMember]:
    return StudyMember.objects.filter(user=user).select_related("study").order_by("study__slug")


def round_items(round_: Round) -> list[Item]:
    """The round's items in questionnaire order, with their themes."""
    return list(round_.items.select_related("theme").order_by("theme__position", "position"))


def round_current(study: Study) -> Round | None:
    """The open round, else the latest round of the study."""
    rounds = study.rounds.order_by("-number")
    return rounds.filter(status=Round.Status.OPEN).first() or rounds.first()


def round_previous(round_: Round) -> Round | None:
    return Round.objects.filter(study_id=round_.study_id, number=round_.number - 1).first()


def answers_frame(*, round_ids: list[int], submitted_only: bool = True) -> pd.DataFrame:
    """All answers of the rounds in the analysis long format, read in one query.

    Experts appear as opaque per-study labels, never as names or emails. A no-opinion answer
    has value NaN; open-text answers are left out.
    """
    qs = Answer.objects.filter(response__round_id__in=round_ids).exclude(item__kind=Item.Kind.OPEN)
    if submitted_only:
        qs = qs.filter(response__status=Response.Status.SUBMITTED)
    rows = list(qs.values_list(
        "response__expert_id", "response__round__number", "item__code", "dimension",
        "response__expert__group__code", "value", "item__kind", "no_opinion",
    ))
    frame = pd.DataFrame(rows, columns=[*LONG_COLUMNS, "no_opinion"])
    frame["expert"] = "E" + frame["expert"].astype(str)
    frame["value"] = frame["value"].astype(float).where(~frame["no_opinion"].astype(bool))
    return frame.drop(columns="no_opinion")


def response_rates(round_: Round) -> list[dict]:
    """Per stakeholder group: panel size, drafts started and submitted responses."""
    groups = round_.study.groups.annotate(
        panel=Count("experts", filter=Q(experts__withdrawn_at__isnull=True), distinct=True),
        submitted=Count("experts__responses", distinct=True, filter=Q(
            experts__responses__round=round_,
            experts__responses__status=Response.Status.SUBMITTED)),
        started=Count("experts__responses", distinct=True,
                      filter=Q(experts__responses__round=round_)),
    )
    return [
        {"group": g, "panel": g.panel, "started": g.started, "submitted": g.submitted,
         "rate": round(100 * g.submitted / g.panel, 1) if g.panel else None}
        for g in groups
    ]


def aggregates_for_round(round_: Round, *, group: str = "") -> dict[tuple[int, str], Aggregate]:
    """The round's snapshot keyed by (item id, dimension)."""
    return {
        (a.item_id, a.dimension): a
        for a in Aggregate.objects.filter(round=round_, group=group)
    }


def expert_response(expert: Expert, round_: Round | None) -> Response | None:
    if round_ is None:
        return None
    return (Response.objects.filter(expert=expert, round=round_)
            .prefetch_related("answers", "rationales").first())


def answered_item_codes(expert: Expert, round_: Round) -> set[str]:
    """Codes of the round's items the expert has a saved answer to (a value, no opinion or text)."""
    return set(Answer.objects.filter(response__expert=expert, response__round=round_)
               .values_list("item__code", flat=True))

"""Reads: everything views, commands and tasks need to know, as QuerySets or DataFrames."""

import copy
import functools

from django.db import connection
from django.db.models import (
    Case,
    Count,
    DateTimeField,
    F,
    IntegerField,
    Max,
    OuterRef,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.expressions import RawSQL
from django.http import Http404

from surveys.models import (
    Aggregate,
    AggregationRun,
    Answer,
    Expert,
    Item,
    Response,
    ResponseRevision,
    Round,
    Study,
    StudyMember,
)


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


# What the expert's pages key their per-process caches by, read with the round (see
# _round_keys): any change of the round's items or themes changes the first, a new finished
# aggregation of the previous round the second.
ITEMS_KEY = ("items_n", "items_link", "items_at", "themes_at")
FEEDBACK_KEY = ("previous_id", "previous_run")


def _round_keys() -> dict:
    """Annotations of a round: the study's current round (round_current's choice); its items'
    number, their latest link to the round (an item swapped for another makes a newer one) and
    the latest change of an item or theme; the previous round and its latest finished
    aggregation run (None until it is aggregated)."""
    links = Round.items.through.objects.filter(round_id=OuterRef("pk")).order_by().values("round_id")
    previous = {"study_id": OuterRef("study_id"), "number": OuterRef("number") - 1}
    done = AggregationRun.objects.filter(
        status=AggregationRun.Status.DONE, round__status=Round.Status.AGGREGATED,
        **{f"round__{name}": ref for name, ref in previous.items()}).order_by("-version")
    current = (Round.objects.filter(study_id=OuterRef("study_id"))
               .order_by(*_current_first()).values("pk")[:1])
    return {
        "current_id": Subquery(current),
        "items_n": Subquery(links.annotate(v=Count("pk")).values("v")),
        "items_link": Subquery(links.annotate(v=Max("pk")).values("v")),
        "items_at": Subquery(links.annotate(v=Max("item__updated_at")).values("v")),
        "themes_at": Subquery(links.annotate(v=Max("item__theme__updated_at")).values("v")),
        "previous_id": Subquery(Round.objects.filter(**previous).values("pk")[:1]),
        "previous_run": Subquery(done.values("pk")[:1]),
    }


@functools.lru_cache(maxsize=4)
def _round_keys_sql(vendor: str) -> dict[str, tuple[str, tuple]]:
    """_round_keys as SQL, written by the ORM once per process: compiling six subqueries took
    most of an autosave's CPU. They name the round's table as a query on Round does, and as a
    query with select_related("round") does (a table's first alias is its name)."""
    query = Round.objects.annotate(**_round_keys()).query
    compiler = query.get_compiler(Round.objects.db)
    return {name: compiler.compile(expression) for name, expression in query.annotations.items()}


def _round_keys_raw() -> dict[str, RawSQL]:
    fields = {"items_at": DateTimeField(), "themes_at": DateTimeField()}
    # The SQL is the ORM's own (constant values as parameters), never text from a request.
    return {name: RawSQL(sql, params, output_field=fields.get(name, IntegerField()))  # noqa: S611
            for name, (sql, params) in _round_keys_sql(connection.vendor).items()}


def _current_first() -> list:
    """Ordering that puts the open round first, then the latest (round_current's choice)."""
    return [Case(When(status=Round.Status.OPEN, then=Value(0)), default=Value(1),
                 output_field=IntegerField()), "-number"]


def expert_round_response(expert_id: int) -> tuple[Expert | None, Round | None, Response | None]:
    """The expert (unless withdrawn) with their study, the round they answer (as round_current
    chooses it, with the keys of _round_keys) and their response to it: one query once the
    response exists, which is every request after the first save."""
    keys = _round_keys_raw()
    # At most one row (one response per round and expert): no ordering, which first() would add.
    response = next(iter(Response.objects.select_related("expert__study", "round").filter(
        expert_id=expert_id, expert__withdrawn_at__isnull=True,
        round__study_id=F("expert__study_id"), round_id=keys.pop("current_id"),
    ).annotate(**{f"round_{k}": v for k, v in keys.items()})[:1]), None)
    if response is not None:
        round_ = response.round
        round_.study = response.expert.study  # the same row, read once
        for name in (*ITEMS_KEY, *FEEDBACK_KEY):
            setattr(round_, name, getattr(response, f"round_{name}"))
        return response.expert, round_, response
    expert = (Expert.objects.select_related("study")
              .filter(pk=expert_id, withdrawn_at__isnull=True).first())
    if expert is None:
        return None, None, None
    keys = _round_keys_raw()
    del keys["current_id"]
    round_ = expert.study.rounds.annotate(**keys).order_by(*_current_first()).first()
    if round_ is not None:
        round_.study = expert.study
    return expert, round_, None


def round_with_keys(round_: Round) -> Round:
    """The round with the keys of _round_keys as attributes: as expert_round_response read it,
    else a copy with the keys read in one query (the caller's object stays as it was)."""
    if hasattr(round_, "items_n"):
        return round_
    keys = Round.objects.filter(pk=round_.pk).annotate(**_round_keys_raw())
    round_ = copy.copy(round_)
    for name, value in keys.values(*ITEMS_KEY, *FEEDBACK_KEY).get().items():
        setattr(round_, name, value)
    return round_


def round_items_shared(round_: Round) -> list[Item]:
    """round_items, kept in this process while the round's items and themes do not change (the
    ITEMS_KEY of a round from round_with_keys): the Item objects are shared between requests,
    to be read and never changed."""
    round_ = round_with_keys(round_)
    return list(_round_items_of(round_.pk, tuple(getattr(round_, name) for name in ITEMS_KEY)))


@functools.lru_cache(maxsize=64)
def _round_items_of(round_id: int, key: tuple) -> tuple[Item, ...]:
    return tuple(Item.objects.filter(rounds=round_id).select_related("theme")
                 .order_by("theme__position", "position"))


round_items_cache_clear = _round_items_of.cache_clear


def round_previous(round_: Round) -> Round | None:
    return Round.objects.filter(study_id=round_.study_id, number=round_.number - 1).first()


def response_revisions(response: Response) -> QuerySet[ResponseRevision]:
    """The history of a submitted response, oldest first."""
    return response.revisions.order_by("number")


def answered_item_codes(expert: Expert, round_: Round) -> set[str]:
    """Codes of the round's items the expert has a saved answer to (a value, no opinion or text)."""
    return set(Answer.objects.filter(response__expert=expert, response__round=round_)
               .values_list("item__code", flat=True))


def aggregation_progress(round_: Round) -> AggregationRun | None:
    """The round's latest aggregation run (status, phase, percent, chunks), for dashboards."""
    return round_.aggregation_runs.order_by("-version").first()


def live_round(study: Study) -> Round | None:
    """The open round of a Real-Time study (None for a classic study or when none is open)."""
    if study.mode != Study.Mode.REALTIME:
        return None
    return study.rounds.filter(status=Round.Status.OPEN).order_by("-number").first()


def live_aggregates(study: Study, *, group: str = "") -> dict[tuple[int, str], Aggregate]:
    """The current statistics of a Real-Time study, keyed by (item id, dimension).

    The live round's latest computed version; until its first recomputation after a snapshot,
    the snapshot's own figures (the answers were carried forward, so they still hold).
    """
    live = live_round(study)
    if live is None:
        return {}
    for round_ in (live, round_previous(live)):
        if round_ is None:
            continue
        rows = Aggregate.objects.filter(round=round_, group=group).select_related("run")
        found = {(a.item_id, a.dimension): a for a in rows}
        if found:
            return found
    return {}

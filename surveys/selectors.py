"""Reads: everything views, commands and tasks need to know, as QuerySets or DataFrames."""

import io

import numpy as np
import pandas as pd
from django.db import connection
from django.db.models import Case, Count, F, FloatField, Q, QuerySet, Value, When
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
    StakeholderGroup,
    Study,
    StudyMember,
)

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


def answers_frame(
    *, round_ids: list[int], submitted_only: bool = True, item_ids: list[int] | None = None,
    categorical: bool = False, where: Q | None = None,
) -> pd.DataFrame:
    """All answers of the rounds (or of some of their items) in the analysis long format.

    Read in one query straight from the cursor (ids, not joined strings, cross the wire) and
    ordered by round, item id, dimension and expert id. Experts appear as opaque per-study
    labels, never as names or emails. A no-opinion answer has value NaN; open-text answers
    are left out. `categorical` gives the text columns as categoricals (categories in sorted
    order), which large aggregations group much faster; `where` narrows the answers further.
    """
    if item_ids == [] or not round_ids:
        return _empty_long()
    qs = Answer.objects.filter(response__round_id__in=round_ids).exclude(item__kind=Item.Kind.OPEN)
    if submitted_only:
        qs = qs.filter(response__status=Response.Status.SUBMITTED)
    if item_ids is not None:
        qs = qs.filter(item_id__in=item_ids)
    if where is not None:
        qs = qs.filter(where)
    columns = _fetch_columns(qs.annotate(answer_value=Case(
        When(no_opinion=True, then=Value(None)), default=F("value"), output_field=FloatField(),
    )).values_list(
        "response__expert_id", "response__round_id", "item_id", "dimension",
        "response__expert__group_id", "answer_value",
    ))
    if columns is None:
        return _empty_long()
    expert, round_id, item, group, values = (columns[k] for k in (0, 1, 2, 4, 5))
    dim_codes, dim_names = columns[3]
    # A fixed row order (whatever order the database returned), so that sums over the same
    # answers, read whole or by chunks of items, are bit for bit the same.
    order = _row_order(round_id, item, dim_codes, expert)
    expert, round_id, item, group = expert[order], round_id[order], item[order], group[order]
    dim_codes, values = dim_codes[order], values[order]
    items = {pk: (code, kind) for pk, code, kind in Item.objects.filter(
        pk__in=np.unique(item).tolist()).values_list("pk", "code", "kind")}
    numbers = dict(Round.objects.filter(pk__in=round_ids).values_list("pk", "number"))
    groups = dict(StakeholderGroup.objects.filter(
        pk__in=np.unique(group).tolist()).values_list("pk", "code"))
    return pd.DataFrame({
        "expert": _labels(expert, lambda pk: f"E{pk}", categorical),
        "round": _labels(round_id, numbers.__getitem__, False).astype("int64"),
        "item": _labels(item, lambda pk: items[pk][0], categorical),
        "dimension": _labels(dim_codes, lambda code: dim_names[code], categorical),
        "group": _labels(group, groups.__getitem__, categorical),
        "value": values,
        "kind": _labels(item, lambda pk: items[pk][1], categorical),
    })


def _fetch_columns(qs: QuerySet) -> list | None:
    """The columns of the answers query (expert, round, item, dimension, group, value) as
    numpy arrays, the dimension as (codes, sorted names); None when there are no rows.
    PostgreSQL streams the rows with COPY into pyarrow's CSV reader, several times faster
    than building a million Python tuples."""
    sql, params = qs.query.sql_with_params()
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        if not rows:
            return None
        columns = [np.array(column, dtype=object) for column in zip(*rows, strict=True)]
        ints = [columns[k].astype(np.int64) for k in (0, 1, 2, 4)]
        dimension = pd.factorize(columns[3], sort=True)
        return [*ints[:3], dimension, ints[3], columns[5].astype(np.float64)]
    import pyarrow as pa
    from pyarrow import csv

    connection.ensure_connection()
    buffer = io.BytesIO()
    with connection.connection.cursor() as raw:
        with raw.copy(f"COPY ({sql}) TO STDOUT (FORMAT csv)", params) as copy:
            for block in copy:
                buffer.write(block)
    if not buffer.tell():
        return None
    buffer.seek(0)
    names = ["expert", "round", "item", "dimension", "group", "value"]
    types = {name: pa.int64() for name in names} | {"dimension": pa.string(), "value": pa.float64()}
    table = csv.read_csv(buffer, read_options=csv.ReadOptions(column_names=names),
                         convert_options=csv.ConvertOptions(column_types=types,
                                                            strings_can_be_null=False))
    columns = [table.column(name).to_numpy() for name in names if name != "dimension"]
    return [*columns[:3], _codes(table.column("dimension").combine_chunks()), *columns[3:]]


def _row_order(*keys: np.ndarray) -> np.ndarray:
    """The permutation sorting rows by the keys, first key first (one int64 sort key when
    the keys' ranges allow, which is several times faster than a lexsort)."""
    ranks = [pd.factorize(key, sort=True) for key in keys]
    sizes = [len(uniques) for _, uniques in ranks]
    if float(np.prod(sizes, dtype=float)) >= 2**62:
        return np.lexsort(tuple(key for key in reversed(keys)))
    combined = np.zeros(len(keys[0]), dtype=np.int64)
    for (codes, _), size in zip(ranks, sizes, strict=True):
        combined = combined * size + codes
    return np.argsort(combined, kind="stable")


def _codes(strings) -> tuple[np.ndarray, np.ndarray]:
    """(codes, sorted distinct strings) of a pyarrow string array."""
    encoded = strings.dictionary_encode()
    names = np.array(encoded.dictionary.to_pylist(), dtype=object)
    order = np.argsort(names, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return rank[encoded.indices.to_numpy()], names[order]


def _empty_long() -> pd.DataFrame:
    return pd.DataFrame({column: pd.Series(dtype="float64" if column == "value" else object)
                         for column in LONG_COLUMNS})


def _labels(ids: np.ndarray, label, categorical: bool):
    """Map many repeated ids to labels, calling `label` once per distinct id."""
    codes, uniques = pd.factorize(ids)
    names = np.array([label(u) for u in uniques], dtype=object)
    if not categorical:
        return names[codes]
    label_codes, categories = pd.factorize(names, sort=True)  # labels may repeat (kinds)
    return pd.Categorical.from_codes(label_codes[codes], categories=categories)


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

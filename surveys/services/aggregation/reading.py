"""Reading a round's answers for the aggregation: lean queries, straight into pandas.

The aggregation reads a million answers or more, so this reader asks PostgreSQL for the four
columns that vary per answer (response id, item id, dimension, value), from the answer table
alone, one query per round (of the previous round only the rated items, which stability
needs), and maps the few thousand responses to experts, rounds and groups in numpy.
PostgreSQL returns, per item and dimension, the response ids and the values as two arrays in
binary (read at the libpq level straight into numpy), the two rounds at once on two
connections when no transaction is open; SQLite (tests, the embedded default) runs the same
filters as rows through the ordinary cursor.

This is the one reader of answers into the long format of `analysis` (plus `kind`): the
aggregation's statistics, and through them every figure and test a report shows, come from it
(exports write their own pseudonymized format). Its frames have categoricals whose
categories are sorted and shared by both rounds, rows ordered by round, item id, dimension
and expert id, so that sums over the same answers, read whole or by chunks of items, are bit
for bit the same.
"""

from __future__ import annotations

import io
import selectors
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np
import pandas as pd
from django.db import connection

from analysis.frames import LONG_COLUMNS
from surveys.figures import on_the_panel
from surveys.models import Item, Response, Round, StakeholderGroup

COLUMNS = [*LONG_COLUMNS, "kind"]
# The answer table alone, filtered by lists of response and item ids (every value interpolated
# is an integer from the database). Lists, not joins: right after a round's answers are loaded,
# the planner's statistics may not know the new ids, and a join then risks a nested loop over
# a million answers times the responses; a filter by lists costs at worst one pass. The range
# of the response ids, implied by the list, lets PostgreSQL scan only the index range and heap
# pages of the round's responses (created together, so their ids are close): half the
# server's time when the table holds several rounds, and never worse than the list alone.
ROUND_SQL = (
    "SELECT a.response_id, a.item_id, a.dimension, "
    "CASE WHEN a.no_opinion THEN NULL ELSE a.value END FROM surveys_answer a "
    "WHERE a.response_id BETWEEN {low} AND {high} AND a.response_id IN ({responses}) "
    "AND a.item_id IN ({items})"
)
# On PostgreSQL the same rows come as two arrays per item and dimension (response ids, values;
# no opinion as NaN), in binary: a few hundred result rows instead of a million COPY messages
# each taken in Python, and no text to format or parse on either side.
ARRAYS_SQL = (
    "SELECT a.item_id, a.dimension, array_agg(a.response_id), "
    "array_agg(COALESCE(CASE WHEN a.no_opinion THEN NULL ELSE a.value END, 'NaN')) "
    "FROM surveys_answer a "
    "WHERE a.response_id BETWEEN {low} AND {high} AND a.response_id IN ({responses}) "
    "AND a.item_id IN ({items}) GROUP BY a.item_id, a.dimension"
)


@contextmanager
def rounds_reading(
    *, round_: Round, previous: Round | None, item_ids: list[int] | None = None
) -> Iterator[tuple[pd.DataFrame, Callable[[], pd.DataFrame | None]]]:
    """Yield (the round's frame, a function returning the previous round's frame).

    The round's frame holds its answers to its non-open items (or to `item_ids`); the
    previous round's its answers to rated items only (what stability needs); both share
    their categories. On PostgreSQL, outside a transaction, the round is read in two halves on
    two connections at once, then the previous round on a second connection while the
    caller computes on the round's frame. Leaving the block closes that connection.
    """
    items = Item.objects.filter(study_id=round_.study_id).propositions().exclude(kind=Item.Kind.OPEN)
    if item_ids is not None:
        items = items.filter(pk__in=item_ids)
    specs = {pk: (code, kind) for pk, code, kind in items.values_list("pk", "code", "kind")}
    rated = [pk for pk, (_, kind) in specs.items() if kind in Item.RATED]
    responses = np.array(Response.objects.filter(
        round_id__in=[round_.pk] + ([] if previous is None else [previous.pk]),
        status=Response.Status.SUBMITTED,
    ).filter(on_the_panel()).values_list("pk", "expert_id", "round_id", "expert__group_id"),
        dtype=np.int64).reshape(-1, 4)
    responses = responses[np.argsort(responses[:, 0])]
    groups = dict(StakeholderGroup.objects.filter(study_id=round_.study_id).values_list("pk", "code"))
    labels = _Labels(responses, specs, groups)
    apart = connection.vendor == "postgresql" and not connection.in_atomic_block
    # The round's items in two halves, read at once on two connections (the server prepares
    # each on a core of its own), then the previous round on one while the caller computes.
    halves = [list(specs)[::2], list(specs)[1::2]] if apart and len(specs) > 1 else [list(specs)]
    now_sql = [sql for half in halves if (sql := _round_sql(responses, round_, half))]
    before_sql = None if previous is None else _round_sql(responses, previous, rated)
    frame = labels.frame(_read(now_sql) if now_sql else None, round_.number)
    pending = _Pending(before_sql) if before_sql and now_sql and apart else None
    try:
        if previous is None:
            yield frame, lambda: None
            return
        taken: list[pd.DataFrame] = []

        def before() -> pd.DataFrame:
            if not taken:
                columns = pending.columns() if pending else _read([before_sql]) if before_sql else None
                taken.append(labels.frame(columns, previous.number))
                _share_dimensions(frame, taken[0])
            return taken[0]

        yield frame, before
    finally:
        if pending:
            pending.close()


def _round_sql(responses: np.ndarray, round_: Round, items: list[int]) -> str | None:
    """The query of the round's answers to `items` (None when it has none to read)."""
    ids = responses[responses[:, 2] == round_.pk, 0]
    if not items or not len(ids):
        return None
    sql = ARRAYS_SQL if connection.vendor == "postgresql" else ROUND_SQL
    return sql.format(low=int(ids.min()), high=int(ids.max()), responses=_ids(ids),
                      items=_ids(items))


class _Labels:
    """The categories both rounds' frames share: experts and groups from the responses of both
    rounds, item codes and kinds from the items (sorted labels; unobserved ones are harmless,
    as every grouping keeps only the observed keys)."""

    def __init__(self, responses: np.ndarray, specs: dict, groups: dict) -> None:
        self.responses = responses
        self.expert, experts = pd.factorize(responses[:, 1], sort=True)
        self.experts = [f"E{pk}" for pk in experts]
        self.group, group_ids = pd.factorize(responses[:, 3], sort=True)
        self.groups = [groups[pk] for pk in group_ids]
        self.item_ids = np.array(sorted(specs), dtype=np.int64)
        self.codes = [specs[pk][0] for pk in self.item_ids]
        self.kinds = [specs[pk][1] for pk in self.item_ids]

    def frame(self, columns: tuple | None, number: int) -> pd.DataFrame:
        """A round's long frame, rows ordered by item id, dimension and expert id."""
        if columns is None:
            return _empty()
        response, item_id, (dimension, dimensions), value = columns
        at = np.searchsorted(self.responses[:, 0], response)
        expert = self.expert[at]
        item = np.searchsorted(self.item_ids, item_id)
        # One integer sort key (the round is the same for every row).
        key = np.zeros(len(at), dtype=np.int64)
        for codes, size in ((item, len(self.item_ids)), (dimension, len(dimensions)),
                            (expert, len(self.experts))):
            key = key * size + codes
        order = np.argsort(key, kind="stable")
        at, item, dimension, value = at[order], item[order], dimension[order], value[order]
        return pd.DataFrame({
            "expert": _labels(self.expert[at], self.experts),
            "round": np.full(len(at), number, dtype=np.int64),
            "item": _labels(item, self.codes),
            "dimension": _labels(dimension, list(dimensions)),
            "group": _labels(self.group[at], self.groups),
            "value": value,
            "kind": _labels(item, self.kinds),
        })


def _share_dimensions(frame: pd.DataFrame, before: pd.DataFrame) -> None:
    """Give both frames the same dimension categories (the sorted union), which they have
    unless an item's dimensions changed between the rounds."""
    if before.empty or frame.empty:
        return
    now, then = frame["dimension"].cat.categories, before["dimension"].cat.categories
    if not now.equals(then):
        union = now.union(then).sort_values()
        frame["dimension"] = frame["dimension"].cat.set_categories(union)
        before["dimension"] = before["dimension"].cat.set_categories(union)


class _Pending:
    """A query sent on a connection of its own, whose result a thread takes in as it arrives
    (PostgreSQL stops sending when the socket's buffer is full, so unread it would wait)."""

    def __init__(self, statement: str) -> None:
        connection.ensure_connection()
        self.other = connection.get_new_connection(connection.get_connection_params())
        self.other.pgconn.send_query_params(statement.encode(), None, result_format=1)
        self.results: list = []
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._take, daemon=True)
        self.thread.start()

    def _take(self) -> None:
        try:
            self.results = _collect([self.other.pgconn])
        except BaseException as error:  # noqa: BLE001 (raised again in the caller's thread)
            self.error = error

    def columns(self) -> tuple | None:
        self.thread.join()
        if self.error is not None:
            raise self.error
        return _columns([result for result in self.results if result.ntuples])

    def close(self) -> None:
        if self.thread.is_alive():  # left early (an error): stop the query, then the thread
            self.other.pgconn.get_cancel().cancel()
            self.thread.join()
        self.other.close()


def _ids(ids) -> str:
    return ",".join(str(int(pk)) for pk in ids)


def _read(queries: list[str]) -> tuple | None:
    """(response ids, item ids, (dimension codes, sorted dimensions), values) of the queries'
    rows; None when there are none."""
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(" UNION ALL ".join(queries))
            rows = cursor.fetchall()
        if not rows:
            return None
        response, item, dimension, value = (np.array(c, dtype=object) for c in zip(*rows, strict=True))
        return (response.astype(np.int64), item.astype(np.int64),
                pd.factorize(dimension.astype(str), sort=True), value.astype(np.float64))
    return _columns([result for result in fetch_binary(queries) if result.ntuples])


def _columns(results: list) -> tuple | None:
    """The columns of _read from PostgreSQL's binary results (a row per item and dimension)."""
    if not results:
        return None
    cells = [(int.from_bytes(result.get_value(k, 0), "big", signed=True),
              bytes(result.get_value(k, 1)).decode(), _array(result.get_value(k, 2), ">i8"),
              _array(result.get_value(k, 3), ">f8"))
             for result in results for k in range(result.ntuples)]
    sizes = [len(responses) for _, _, responses, _ in cells]
    names = sorted({dimension for _, dimension, _, _ in cells})
    codes = {name: code for code, name in enumerate(names)}
    return (np.concatenate([responses for _, _, responses, _ in cells]).astype(np.int64),
            np.repeat(np.array([item for item, _, _, _ in cells], dtype=np.int64), sizes),
            (np.repeat(np.array([codes[d] for _, d, _, _ in cells], dtype=np.int64), sizes),
             np.array(names, dtype=object)),
            np.concatenate([values for _, _, _, values in cells]).astype(np.float64))


def _array(data, element: str) -> np.ndarray:
    """A one-dimensional PostgreSQL array without NULLs, in its binary form, as numpy: a header
    (dimensions, has-nulls flag, element type, length, lower bound), then per element its
    byte length and big-endian value."""
    data = bytes(data)
    ndim, has_nulls = int.from_bytes(data[0:4], "big"), int.from_bytes(data[4:8], "big")
    if ndim == 0:
        return np.empty(0, dtype=element)
    if ndim != 1 or has_nulls:
        raise ValueError("expected a one-dimensional array without NULLs")
    size = int.from_bytes(data[12:16], "big")
    return np.frombuffer(data, dtype=np.dtype([("length", ">i4"), ("value", element)]),
                         count=size, offset=20)["value"]


def fetch_binary(statements: list[str]) -> list:
    """The results (psycopg `pq.PGresult`, binary format) of SELECT statements on Django's
    PostgreSQL connection; outside a transaction each statement after the first runs at the
    same time on a connection of its own, as in `copy_out`."""
    connection.ensure_connection()
    if len(statements) == 1 or connection.in_atomic_block:
        return [_fetch_together([connection.connection.pgconn], [s])[0] for s in statements]
    params = connection.get_connection_params()
    extra = [connection.get_new_connection(params) for _ in statements[1:]]
    try:
        return _fetch_together([connection.connection.pgconn, *(c.pgconn for c in extra)],
                               statements)
    finally:
        for other in extra:
            other.close()


def _fetch_together(pgconns: list, statements: list[str]) -> list:
    """Send one statement per connection and collect each one's result as it completes; every
    connection is left with no result pending, also on an error."""
    for pgconn, statement in zip(pgconns, statements, strict=True):
        pgconn.send_query_params(statement.encode(), None, result_format=1)
    return _collect(pgconns)


def _collect(pgconns: list) -> list:
    """Collect the result of the statement sent on each connection, as each one completes."""
    from psycopg import pq

    results: list = [None] * len(pgconns)
    errors: list[str] = []
    pending: set[int] = set(range(len(pgconns)))
    waiting = selectors.DefaultSelector()
    try:
        for k, pgconn in enumerate(pgconns):
            waiting.register(pgconn.socket, selectors.EVENT_READ, k)
        while pending:
            for k in list(pending):
                pgconn = pgconns[k]
                pgconn.consume_input()
                while not pgconn.is_busy():
                    result = pgconn.get_result()
                    if result is None:
                        pending.discard(k)
                        waiting.unregister(pgconn.socket)
                        break
                    if result.status == pq.ExecStatus.TUPLES_OK:
                        results[k] = result
                    else:
                        errors.append(result.get_error_message())
            if pending:
                waiting.select()
    finally:
        waiting.close()
        for k in pending:  # interrupted: wait for what is left, so the connection is reusable
            while pgconns[k].get_result() is not None:
                pass
    if errors or any(result is None for result in results):
        raise RuntimeError(f"query failed: {errors[0] if errors else 'no result'}")
    return results


def copy_out(statements: list[str]) -> bytes:
    """The output of `COPY ... TO STDOUT` statements on Django's PostgreSQL connection, one
    after the other.

    Outside a transaction, each statement after the first runs at the same time on a
    connection of its own (PostgreSQL formats rows on one core per connection, which is most
    of a large read's time); inside one, all run on Django's connection, which alone sees the
    transaction's rows. Rows are read at the libpq level (psycopg's documented
    `Connection.pgconn`): PostgreSQL sends one message per row, and psycopg's `Copy` iterator
    costs about three times as much Python time per message.
    """
    connection.ensure_connection()
    if len(statements) == 1 or connection.in_atomic_block:
        return b"".join(_copy_together([connection.connection.pgconn], [s]) for s in statements)
    params = connection.get_connection_params()
    extra = [connection.get_new_connection(params) for _ in statements[1:]]
    try:
        pgconns = [connection.connection.pgconn, *(c.pgconn for c in extra)]
        return _copy_together(pgconns, statements)
    finally:
        for other in extra:
            other.close()


def _copy_together(pgconns: list, statements: list[str]) -> bytes:
    """Run one COPY TO STDOUT per connection and read them as rows arrive; the connections
    are left as they were found, also on an error."""
    from psycopg import pq

    buffers = [io.BytesIO() for _ in pgconns]
    copying: set[int] = set()
    waiting = selectors.DefaultSelector()  # poll or epoll: any file descriptor number
    try:
        for pgconn, statement in zip(pgconns, statements, strict=True):
            pgconn.send_query(statement.encode())
        for k, pgconn in enumerate(pgconns):
            result = pgconn.get_result()
            if result is None or result.status != pq.ExecStatus.COPY_OUT:
                raise RuntimeError(f"COPY failed: {result and result.get_error_message()}")
            copying.add(k)
            waiting.register(pgconn.socket, selectors.EVENT_READ, k)
        while copying:
            for k in list(copying):
                pgconn, write = pgconns[k], buffers[k].write
                while (row := pgconn.get_copy_data(1))[0] > 0:  # 0: none buffered, -1: the end
                    write(row[1])
                if row[0] < 0:
                    copying.discard(k)
                    waiting.unregister(pgconn.socket)
            if copying:  # wait for any of the connections, then take in what arrived
                for selected, _ in waiting.select():
                    pgconns[selected.data].consume_input()
    finally:
        waiting.close()
        errors = [_finish(pgconn, k in copying) for k, pgconn in enumerate(pgconns)]
    if message := next((e for e in errors if e), None):
        raise RuntimeError(f"COPY failed: {message}")
    return b"".join(buffer.getvalue() for buffer in buffers)


def _finish(pgconn, copying: bool) -> str:
    """Drain what an error left unread and collect the final results; their first error."""
    from psycopg import pq

    errors = []
    while True:
        while copying and pgconn.get_copy_data(0)[0] > 0:
            pass
        if (result := pgconn.get_result()) is None:
            return errors[0] if errors else ""
        copying = result.status == pq.ExecStatus.COPY_OUT
        if not copying and result.status != pq.ExecStatus.COMMAND_OK:
            errors.append(result.get_error_message())


def _labels(codes: np.ndarray, labels: list) -> pd.Categorical:
    """Codes of a few distinct ids (0 .. len(labels) - 1) as a categorical of their labels,
    with sorted categories (labels may repeat, as kinds do)."""
    label_codes, categories = pd.factorize(np.array(labels, dtype=object), sort=True)
    return pd.Categorical.from_codes(label_codes[codes], categories=categories)


def _empty() -> pd.DataFrame:
    return pd.DataFrame({column: pd.Series(dtype="float64" if column == "value" else object)
                         for column in COLUMNS})

"""Inserting many new rows at once."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from django.db import connection, models

M = TypeVar("M", bound=models.Model)


def rows_insert(model: type[M], objects: Sequence[M]) -> None:
    """Insert new rows (their primary keys are not set on the objects): by COPY on PostgreSQL,
    where psycopg adapts the values (Django's per-value preparation of an INSERT costs several
    times as much: 0.23 s against 0.03 s for a snapshot's 678 rows), else by bulk_create.
    Works inside a transaction like any statement."""
    if connection.vendor != "postgresql" or not objects:
        model._default_manager.bulk_create(objects, batch_size=2000)
        return
    from psycopg.types.json import Jsonb

    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    json = [isinstance(f, models.JSONField) for f in fields]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    table = connection.ops.quote_name(model._meta.db_table)
    sql = f"COPY {table} ({columns}) FROM STDIN"
    # wrap_database_errors: psycopg's errors raised as Django's (IntegrityError, ...).
    with connection.cursor() as cursor, connection.wrap_database_errors, cursor.cursor.copy(
            sql) as copy:
        for row in objects:
            # pre_save: what bulk_create would store (auto_now dates, the field's own value).
            copy.write_row([Jsonb(value) if is_json else value for is_json, value in zip(
                json, (f.pre_save(row, True) for f in fields), strict=True)])

"""Writing many rows at once without a model instance per row."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, cast

from django.db import connections, models, router
from django.db.models import Field, Model

# Field classes whose Python values both database drivers take as they are. Exact classes, not their internal
# type: a subclass (an encrypted text field reports itself as a TextField) may change the stored value.
_PLAIN = frozenset(
    {
        models.CharField,
        models.TextField,
        models.IntegerField,
        models.PositiveIntegerField,
        models.PositiveSmallIntegerField,
        models.SmallIntegerField,
        models.BigIntegerField,
        models.ForeignKey,
    }
)

# Rows per statement at most, whatever the engine allows: larger statements save nothing measurable.
MAX_ROWS = 2000
# Bound parameters per statement when the engine names no limit (PostgreSQL's wire protocol counts them in
# 16 bits).
_MAX_PARAMS = 65535


def insert_rows(model: type[Model], fields: Sequence[str], rows: Iterable[Sequence[object]]) -> int:
    """Insert rows (values in the order of `fields`) with plain multi-row `INSERT … ON CONFLICT DO NOTHING`
    statements, skipping rows that would break a unique constraint; both SQLite and PostgreSQL understand it.
    Values of fields that need it (dates, UUIDs, JSON, encrypted text) are adapted by their field, so they are
    stored exactly as the ORM stores them; an encrypted value is encrypted per row unless it is a `SealedText`.
    Columns not named get NULL, so every column without a NULL must be named (model defaults are not applied).
    Each statement stays under the engine's limit of bound parameters. Returns the number of rows given.

    For the tens of thousands of narrow rows of an import or a fan-out: building a model instance per row and
    preparing it field by field, as `bulk_create` does, costs several times the insert itself."""
    meta = model._meta
    columns = [cast(Field[Any, Any], meta.get_field(name)) for name in fields]
    if not columns:
        raise ValueError("insert_rows needs at least one field")
    database = connections[router.db_for_write(model)]  # the wrapper itself: `connection` is a per-call proxy
    adapt = [
        None if type(field) in _PLAIN else (lambda v, f=field: f.get_db_prep_save(v, database)) for field in columns
    ]
    table = database.ops.quote_name(meta.db_table)
    names = ", ".join(database.ops.quote_name(str(field.column)) for field in columns)
    placeholder = "(" + ", ".join(["%s"] * len(columns)) + ")"
    # PostgreSQL: one array per column (`unnest`), so a statement binds as many parameters as there are
    # columns; its driver parses every placeholder of a statement anew, which cost more than the insert.
    arrays = ", ".join(f"%s::{field.db_type(database)}[]" for field in columns)
    by_column = database.vendor == "postgresql"
    limit = _MAX_PARAMS if by_column else (database.features.max_query_params or _MAX_PARAMS) // len(columns)
    per_statement = max(1, min(MAX_ROWS, limit))
    statement = {}
    count = 0
    chunk: list[Sequence[object]] = []
    with database.cursor() as cursor:

        def flush() -> None:
            size = len(chunk)
            if size not in statement:
                # Names and types from the model; values bound.
                values = f"SELECT * FROM unnest({arrays})" if by_column else f"VALUES {', '.join([placeholder] * size)}"  # noqa: S608
                statement[size] = f"INSERT INTO {table} ({names}) {values} ON CONFLICT DO NOTHING"
            params: list[Any] = []
            for row in chunk:
                if len(row) != len(columns):
                    raise ValueError(f"a row has {len(row)} values for {len(columns)} fields")
                params += [value if fn is None else fn(value) for value, fn in zip(row, adapt, strict=True)]
            if by_column:
                params = [params[i :: len(columns)] for i in range(len(columns))]
            cursor.execute(statement[size], params)
            chunk.clear()

        for row in rows:
            chunk.append(row)
            count += 1
            if len(chunk) == per_statement:
                flush()
        if chunk:
            flush()
    return count

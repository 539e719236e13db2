"""Writing many rows at once without a model instance per row."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import partial
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
    count = 0
    for _statement_rows, _found in _insert(model, fields, rows, ()):
        count += _statement_rows
    return count


def insert_rows_returning(
    model: type[Model], fields: Sequence[str], rows: Iterable[Sequence[object]], returning: Sequence[str]
) -> list[tuple[Any, ...]]:
    """`insert_rows`, giving back the values of the `returning` fields of the rows it inserted (`RETURNING`,
    which both engines understand); a row skipped for a conflict gives nothing."""
    if not returning:
        raise ValueError("insert_rows_returning needs at least one field to return")
    found: list[tuple[Any, ...]] = []
    for _statement_rows, inserted in _insert(model, fields, rows, returning):
        found += inserted
    return found


def column_name(model: type[Model], name: str) -> str:
    """The database column of `model`'s field `name`."""
    return str(cast(Field[Any, Any], model._meta.get_field(name)).column)


def _adapter(field: Field[Any, Any], database: Any) -> Callable[[Any], Any] | None:
    """How a value of `field` is handed to the driver: None for plain values; JSON through the backend's own
    adaptation (what `get_db_prep_save` ends in, without the layers above it); anything else as the field says."""
    if type(field) in _PLAIN:
        return None
    if isinstance(field, models.JSONField):
        return partial(database.ops.adapt_json_value, encoder=field.encoder)
    return partial(field.get_db_prep_save, connection=database)


def _insert(
    model: type[Model], fields: Sequence[str], rows: Iterable[Sequence[object]], returning: Sequence[str]
) -> Iterator[tuple[int, list[tuple[Any, ...]]]]:
    """One statement at a time: how many rows it carried, and what it returned."""
    meta = model._meta
    columns = [cast(Field[Any, Any], meta.get_field(name)) for name in fields]
    if not columns:
        raise ValueError("insert_rows needs at least one field")
    database = connections[router.db_for_write(model)]  # the wrapper itself: `connection` is a per-call proxy
    adapt = [_adapter(field, database) for field in columns]
    table = database.ops.quote_name(meta.db_table)
    names = ", ".join(database.ops.quote_name(str(field.column)) for field in columns)
    back = ", ".join(database.ops.quote_name(column_name(model, name)) for name in returning)
    tail = " ON CONFLICT DO NOTHING" + (f" RETURNING {back}" if back else "")
    placeholder = "(" + ", ".join(["%s"] * len(columns)) + ")"
    # PostgreSQL: one array per column (`unnest`), so a statement binds as many parameters as there are
    # columns; its driver parses every placeholder of a statement anew, which cost more than the insert.
    arrays = ", ".join(f"%s::{field.db_type(database)}[]" for field in columns)
    by_column = database.vendor == "postgresql"
    limit = _MAX_PARAMS if by_column else (database.features.max_query_params or _MAX_PARAMS) // len(columns)
    per_statement = max(1, min(MAX_ROWS, limit))
    statement: dict[int, str] = {}
    chunk: list[Sequence[object]] = []
    with database.cursor() as cursor:

        def flush() -> tuple[int, list[tuple[Any, ...]]]:
            size = len(chunk)
            if size not in statement:
                # Names and types from the model; values bound.
                values = f"SELECT * FROM unnest({arrays})" if by_column else f"VALUES {', '.join([placeholder] * size)}"  # noqa: S608
                statement[size] = f"INSERT INTO {table} ({names}) {values}{tail}"
            params: list[Any] = []
            for row in chunk:
                if len(row) != len(columns):
                    raise ValueError(f"a row has {len(row)} values for {len(columns)} fields")
                params += [value if fn is None else fn(value) for value, fn in zip(row, adapt, strict=True)]
            if by_column:
                params = [params[i :: len(columns)] for i in range(len(columns))]
            cursor.execute(statement[size], params)
            chunk.clear()
            return size, [tuple(found) for found in cursor.fetchall()] if back else []

        for row in rows:
            chunk.append(row)
            if len(chunk) == per_statement:
                yield flush()
        if chunk:
            yield flush()

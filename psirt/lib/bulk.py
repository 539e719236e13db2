"""Writing many rows at once without a model instance per row."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import partial
from itertools import chain
from typing import Any, cast

from django.db import connections, models, router, transaction
from django.db.models import Field, Model

from psirt.lib.crypto import EncryptedTextField, SealedText

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
# Bound parameters per statement when the engine names no limit.
_MAX_PARAMS = 65535


def insert_rows(model: type[Model], fields: Sequence[str], rows: Iterable[Sequence[object]]) -> int:
    """Insert rows (values in the order of `fields`), skipping rows that would break a unique constraint: plain
    multi-row `INSERT … ON CONFLICT DO NOTHING` statements on SQLite, COPY into a temporary table and one
    `INSERT … SELECT … ON CONFLICT DO NOTHING` on PostgreSQL.
    Values of fields that need it (dates, UUIDs, JSON, encrypted text) are adapted by their field, so they are
    stored exactly as the ORM stores them; an encrypted value is encrypted per row unless it is a `SealedText`.
    Columns not named get NULL, so every column without a NULL must be named (model defaults are not applied).
    Each SQLite statement stays under the engine's limit of bound parameters. Returns the number of rows given.

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
    adapt = _row_adapter(columns, database)
    table = database.ops.quote_name(meta.db_table)
    names = ", ".join(database.ops.quote_name(str(field.column)) for field in columns)
    back = ", ".join(database.ops.quote_name(column_name(model, name)) for name in returning)
    tail = " ON CONFLICT DO NOTHING" + (f" RETURNING {back}" if back else "")
    if database.vendor == "postgresql":
        yield from _copy(database, table, columns, names, tail, back, adapt, rows)
        return
    placeholder = "(" + ", ".join(["%s"] * len(columns)) + ")"
    limit = (database.features.max_query_params or _MAX_PARAMS) // len(columns)
    per_statement = max(1, min(MAX_ROWS, limit))
    statement: dict[int, str] = {}
    chunk: list[Sequence[object]] = []
    with database.cursor() as cursor:

        def flush() -> tuple[int, list[tuple[Any, ...]]]:
            size = len(chunk)
            if size not in statement:
                # Names and types from the model; values bound.
                statement[size] = f"INSERT INTO {table} ({names}) VALUES {', '.join([placeholder] * size)}{tail}"  # noqa: S608
            params: list[Any] = []
            for row in chunk:
                params += adapt(row)
            cursor.execute(statement[size], params)
            chunk.clear()
            return size, [tuple(found) for found in cursor.fetchall()] if back else []

        for row in rows:
            chunk.append(row)
            if len(chunk) == per_statement:
                yield flush()
        if chunk:
            yield flush()


def _copy(
    database: Any,
    table: str,
    columns: Sequence[Field[Any, Any]],
    names: str,
    tail: str,
    back: str,
    adapt: Callable[[Sequence[object]], list[Any]],
    rows: Iterable[Sequence[object]],
) -> Iterator[tuple[int, list[tuple[Any, ...]]]]:
    """PostgreSQL: every row streamed with COPY into a temporary table of the named columns, then one
    `INSERT … SELECT … ON CONFLICT DO NOTHING` (COPY itself cannot skip a conflicting row). The driver writes
    COPY data in C; a bound multi-row INSERT had it quote every value in Python, which cost more than the insert."""
    rows = iter(rows)
    first = next(rows, None)
    if first is None:
        return
    temp = database.ops.quote_name("psirt_bulk_insert")
    definition = ", ".join(f"{database.ops.quote_name(str(f.column))} {f.db_type(database)}" for f in columns)
    count = 0
    with transaction.atomic(using=database.alias), database.cursor() as cursor:
        # Dropped at the end of this block, or with the transaction if anything fails before.
        cursor.execute(f"CREATE TEMPORARY TABLE {temp} ({definition}) ON COMMIT DROP")
        with cursor.cursor.copy(f"COPY {temp} ({names}) FROM STDIN") as copy:
            for row in chain([first], rows):
                copy.write_row(adapt(row))
                count += 1
        cursor.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM {temp}{tail}")  # noqa: S608
        found = [tuple(values) for values in cursor.fetchall()] if back else []
        cursor.execute(f"DROP TABLE {temp}")
    yield count, found


def _row_adapter(columns: Sequence[Field[Any, Any]], database: Any) -> Callable[[Sequence[object]], list[Any]]:
    """The function that turns a row's values into what the driver takes (`_adapter` per column). A column
    whose rows carry the same value object (a fan-out's dates, its sealed context, empty texts) adapts it once:
    the adaptations are pure, except encrypting, which is done per row unless the value is sealed or empty."""
    adapters = [_adapter(field, database) for field in columns]
    repeatable = [not isinstance(field, EncryptedTextField) for field in columns]
    last: list[tuple[object, Any]] = [(_NONE, None)] * len(columns)
    width = len(columns)

    def adapt(row: Sequence[object]) -> list[Any]:
        if len(row) != width:
            raise ValueError(f"a row has {len(row)} values for {width} fields")
        values: list[Any] = []
        for i, value in enumerate(row):
            fn = adapters[i]
            if fn is None:
                values.append(value)
                continue
            seen, adapted = last[i]
            if seen is not value:
                adapted = fn(value)
                if (repeatable[i] and not isinstance(value, dict | list)) or type(value) is SealedText or value == "":
                    last[i] = (value, adapted)
            values.append(adapted)
        return values

    return adapt


_NONE = object()

"""An INSERT of one model instance, compiled before a transaction and run inside it.

Under a lock other writers wait for (SQLite's database-wide write lock, a row every request takes), the Python
work between two statements is time every one of them waits: compiling an INSERT and adapting its values costs
more than running it. `PreparedInsert` compiles the statement as `Model.save` would, ahead of the lock; inside
the transaction only the values that become known there (a number taken under the lock, the id of a row inserted
just before, a hash chained to the previous row) are adapted, and the statement runs.

The statement's text depends only on the model, the fields it writes, whether it returns the new key and the
database, as long as every value is a plain value (no expression) and no field chooses its own placeholder: then it
is compiled once per process and kept (`_STATEMENTS`, one entry per such shape, so bounded by the models), and
each instance's values are adapted exactly as the compiler adapts them. Anything else is compiled per instance.

Unlike `save()`, no `pre_save`/`post_save` signal is sent: a model with receivers of those is refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from django.db import connections, router
from django.db.models import Field, Model
from django.db.models.signals import post_save, pre_save
from django.db.models.sql import InsertQuery

__all__ = ["PreparedInsert"]

# (model, columns written, returns the key, database alias, vendor) → the INSERT's text. One entry per model and
# shape that code prepares, so it stays small; the cap only guards against a caller inventing shapes.
_STATEMENTS: dict[tuple[Any, ...], str] = {}
_MAX_STATEMENTS = 256


class PreparedInsert:
    """`obj`'s INSERT, its SQL and the values of every field but `late` (and the automatic primary key)
    prepared now, as `obj.save(force_insert=True)` would write them; `run()` reads the `late` fields' values
    from `obj`, inserts the row and gives `obj` its primary key."""

    def __init__(self, obj: Model, *, late: Sequence[str] = ()) -> None:
        model = type(obj)
        if pre_save.has_listeners(model) or post_save.has_listeners(model):
            raise ValueError(f"{model._meta.label} has save signal receivers, which an INSERT would bypass")
        self.obj = obj
        self.database = connections[router.db_for_write(model, instance=obj)]
        meta = model._meta
        # The fields `Model._save_table` inserts, and those the database fills in (an automatic key).
        fields = [
            f
            for f in meta.local_concrete_fields
            if not f.generated and (obj.pk is not None or f is not meta.auto_field)
        ]
        self._late = [(i, f) for i, f in enumerate(fields) if f.name in late or f.attname in late]
        if len(self._late) != len(late):
            raise ValueError(f"not all of {list(late)} are fields of {meta.label}")
        self._returning: list[Field[Any, Any]] = list(meta.db_returning_fields) if obj.pk is None else []
        returns = bool(self._returning) and self.database.features.can_return_columns_from_insert
        key = (model, tuple(f.attname for f in fields), returns, self.database.alias, self.database.vendor)
        sql = _STATEMENTS.get(key)
        params = self._plain_values(fields) if sql is not None else None
        if sql is None or params is None:
            query = InsertQuery(model)
            query.insert_values(fields, [obj])
            compiler = query.get_compiler(connection=self.database)
            if returns:
                compiler.returning_fields = self._returning
            ((sql, compiled),) = compiler.as_sql()
            if len(compiled) != len(fields):  # one placeholder per field, in their order
                raise ValueError(f"the INSERT of {meta.label} does not bind one value per field")
            params = list(compiled)
            # Kept only when its text cannot depend on the values: every placeholder the plain "%s" (no field
            # that chooses its own), and no value an expression (read as `pre_save` left them on the instance).
            if (
                not any(hasattr(f, "get_placeholder") for f in fields)
                and not any(hasattr(getattr(obj, f.attname), "resolve_expression") for f in fields)
                and len(_STATEMENTS) < _MAX_STATEMENTS
            ):
                _STATEMENTS[key] = sql
        self.sql: str = sql
        self._params = params

    def _plain_values(self, fields: Sequence[Field[Any, Any]]) -> list[Any] | None:
        """The instance's values for `fields` as the INSERT compiler adapts them (`pre_save(add=True)`, then
        `get_db_prep_save`), or None when one is an expression (its SQL then depends on it)."""
        values = []
        for field in fields:
            value = field.pre_save(self.obj, add=True)
            if hasattr(value, "resolve_expression"):
                return None
            values.append(field.get_db_prep_save(value, connection=self.database))
        return values

    def params(self) -> list[Any]:
        """The statement's values, the late fields' read from the instance now."""
        params = list(self._params)
        for index, field in self._late:
            value = field.pre_save(self.obj, add=True)
            params[index] = cast(Field[Any, Any], field).get_db_prep_save(value, connection=self.database)
        return params

    def run(self) -> None:
        """Insert the row (inside the caller's transaction) and give the instance its primary key."""
        with self.database.cursor() as cursor:
            cursor.execute(self.sql, self.params())
            self.inserted(cursor)

    def inserted(self, cursor: Any) -> None:
        """Take what the database filled in (the new row's key) from `cursor`, which just ran this statement
        (alone or inside a larger one that returns what it returns), and mark the instance as saved."""
        obj, meta = self.obj, self.obj._meta
        if self._returning and self.database.features.can_return_columns_from_insert:
            for value, field in zip(cursor.fetchone(), self._returning, strict=True):
                setattr(obj, field.attname, value)
        elif self._returning:
            obj.pk = self.database.ops.last_insert_id(cursor, meta.db_table, meta.pk.column)
        obj._state.adding = False
        obj._state.db = self.database.alias

"""Statements the ORM compiles once and runs many times: an INSERT of one model instance, compiled before a
transaction and run inside it (`PreparedInsert`), and a SELECT of model instances compiled once per process and
connection (`PreparedSelect`).

Under a lock other writers wait for (SQLite's database-wide write lock, a row every request takes), the Python
work between two statements is time every one of them waits: compiling an INSERT and adapting its values costs
more than running it. `PreparedInsert` compiles the statement as `Model.save` would, ahead of the lock; inside
the transaction only the values that become known there (a number taken under the lock, the id of a row inserted
just before, a hash chained to the previous row) are adapted, and the statement runs.

The statement's text depends only on the model, the fields it writes, whether it returns the new key and the
database, as long as every value is a plain value (no expression) and no field chooses its own placeholder: then it
is compiled once per process and kept (`_STATEMENTS`, one entry per such shape, so bounded by the models), and
each instance's values are adapted exactly as the compiler adapts them. Anything else is compiled per instance.
What a model's INSERT shape needs besides the text (its fields, the late ones, each field's adaptation) is worked
out once per process too; a value of a type its field writes unchanged (`unchanged_types`: a text field's str, a
boolean's bool, a date's None, …, read from which of Django's methods the field's class uses) is taken without the
field's calls, and a value of a type whose adaptation comes down to one known call (`shortcuts`: an aware datetime
is the database's datetime adaptation, a UUID its hex on a database without a UUID type, a sealed text its token)
goes through that call alone, once per row for a value several columns share.

Unlike `save()`, no `pre_save`/`post_save` signal is sent: a model with receivers of those is refused.

A public page runs a handful of SELECTs of a fixed shape whose values change (an advisory ID, a product's key, a
search text); building and compiling each through the ORM cost more than running it. `PreparedSelect` builds the
queryset once with markers in place of the values, compiles it, and then only binds the values (as they are, or
escaped into the LIKE patterns they reach), runs the SQL and makes the instances as the queryset would (the same
columns, converters and `select_related` objects). A page of a list is a window bound as two parameters, and its
count a statement of its own, both compiled once too.
"""

from __future__ import annotations

import datetime as dt
import secrets
import threading
import uuid
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar, cast

from django.core.signals import setting_changed
from django.db import connections, router
from django.db.backends.base.operations import BaseDatabaseOperations
from django.db.models import (
    DEFERRED,
    BooleanField,
    CharField,
    DateField,
    DateTimeField,
    Field,
    ForeignKey,
    IntegerField,
    Model,
    QuerySet,
    TextField,
    TimeField,
    UUIDField,
)
from django.db.models import query as django_query
from django.db.models.signals import post_save, pre_save
from django.db.models.sql import InsertQuery

from psirt.lib.crypto import EncryptedTextField, SealedText, sealed_token

__all__ = ["PreparedInsert", "PreparedSelect", "first_row", "shortcuts", "unchanged_types"]

M = TypeVar("M", bound=Model)

# (model, columns written, returns the key, database alias, vendor) → the INSERT's text. One entry per model and
# shape that code prepares, so it stays small; the cap only guards against a caller inventing shapes.
_STATEMENTS: dict[tuple[Any, ...], str] = {}
_MAX_STATEMENTS = 256


class _Shape:
    """What every INSERT of one model, with the key given or not, the same late fields and one database, shares:
    worked out once per process (`_shape`), not per row."""

    def __init__(self, model: type[Model], keyed: bool, late: tuple[str, ...], database: Any) -> None:
        meta = model._meta
        # The fields `Model._save_table` inserts, and those the database fills in (an automatic key).
        fields = [f for f in meta.local_concrete_fields if not f.generated and (keyed or f is not meta.auto_field)]
        self.fields: list[Field[Any, Any]] = fields
        self.late = [(i, f) for i, f in enumerate(fields) if f.name in late or f.attname in late]
        if len(self.late) != len(late):
            raise ValueError(f"not all of {list(late)} are fields of {meta.label}")
        self.returning: list[Field[Any, Any]] = [] if keyed else list(meta.db_returning_fields)
        self.returns = bool(self.returning) and database.features.can_return_columns_from_insert
        self.key = (model, tuple(f.attname for f in fields), self.returns, database.alias, database.vendor)
        # (field, attname, whether `pre_save` only reads the attribute, the value types written as they are, the
        # value types adapted by one known call: the same calls for the fields of one class, so that a value two
        # columns share is adapted once)
        quick: dict[type, dict[type, Callable[[Any], Any]]] = {}
        self.columns = [
            (
                f,
                f.attname,
                _reads_attribute(f),
                unchanged_types(f, database),
                quick.setdefault(type(f), shortcuts(f, database)),
            )
            for f in fields
        ]


def _reads_attribute(field: Field[Any, Any]) -> bool:
    """Whether `field.pre_save` only reads the instance's attribute: Django's own, or a date's or a time's
    without `auto_now` or `auto_now_add` (which set the clock's value)."""
    pre_save = type(field).pre_save
    if pre_save is Field.pre_save:
        return True
    clock = (DateField.pre_save, DateTimeField.pre_save, TimeField.pre_save)
    return pre_save in clock and not getattr(field, "auto_now", True) and not getattr(field, "auto_now_add", True)


_SHAPES: dict[tuple[Any, ...], _Shape] = {}


def _shape(model: type[Model], keyed: bool, late: tuple[str, ...], database: Any) -> _Shape:
    key = (model, keyed, late, database.alias, database.vendor)
    shape = _SHAPES.get(key)
    if shape is None:
        shape = _Shape(model, keyed, late, database)
        if len(_SHAPES) < _MAX_STATEMENTS:
            _SHAPES[key] = shape
    return shape


_TEXT_PREP = (CharField.get_prep_value, TextField.get_prep_value)
_TEXT_PYTHON = (CharField.to_python, TextField.to_python)


def unchanged_types(field: Field[Any, Any], database: Any) -> frozenset[type]:
    """The exact types of value that `field.get_db_prep_save` returns unchanged on `database`, read from which of
    Django's methods the field's class uses (a field that overrides any of them gets none): a text field's str, a
    boolean's bool, an integer's int where the database adapts none, and None for each of these. A foreign key
    writes None as None and other values as its target field does."""
    cls = type(field)
    if isinstance(field, ForeignKey) and cls.get_db_prep_save is ForeignKey.get_db_prep_save:
        target = field.target_field
        return frozenset({type(None)}) | (unchanged_types(target, database) if target is not field else frozenset())
    if cls.get_db_prep_save is not Field.get_db_prep_save:
        return frozenset()
    if _own_methods(cls, (DateField, DateTimeField, TimeField, UUIDField)) is not None:
        return frozenset({type(None)})  # their adaptations take None as None on every database
    if cls.get_db_prep_value is Field.get_db_prep_value:
        if cls.get_prep_value in _TEXT_PREP and cls.to_python in _TEXT_PYTHON:
            return frozenset({str, type(None)})
        if cls.get_prep_value is BooleanField.get_prep_value and cls.to_python is BooleanField.to_python:
            return frozenset({bool, type(None)})
    if (
        cls.get_db_prep_value is IntegerField.get_db_prep_value
        and cls.get_prep_value is IntegerField.get_prep_value
        and type(database.ops).adapt_integerfield_value is BaseDatabaseOperations.adapt_integerfield_value
    ):
        return frozenset({int, type(None)})
    return frozenset()


def _own_methods(cls: type, bases: Sequence[type]) -> type | None:
    """Which of `bases` `cls` adapts values exactly as (it is one of them or a subclass overriding none of the
    methods a value goes through on its way to the database), or None."""
    names = ("to_python", "get_prep_value", "get_db_prep_value", "get_db_prep_save")
    for base in bases:
        if issubclass(cls, base) and all(getattr(cls, name) is getattr(base, name) for name in names):
            return base
    return None


_SLOW = object()  # a shortcut's answer for a value it does not know: the field's own calls adapt it


def shortcuts(field: Field[Any, Any], database: Any) -> dict[type, Callable[[Any], Any]]:
    """The exact types of value whose adaptation by `field.get_db_prep_save` on `database` comes down to one known
    call, and that call (which answers `_SLOW` for a value it cannot settle): an aware datetime is the database's
    datetime adaptation (the field's own steps leave it as it is), a UUID its hex on a database without a UUID type,
    a sealed text the token it carries. Read from which methods the field's class uses, as `unchanged_types`."""
    cls = type(field)
    if cls.get_db_prep_save is EncryptedTextField.get_db_prep_save and (
        cls.get_prep_value is EncryptedTextField.get_prep_value and cls.to_python is TextField.to_python
    ):
        return {SealedText: sealed_token}
    own = _own_methods(cls, (DateTimeField, UUIDField))
    if own is DateTimeField:
        adapt = database.ops.adapt_datetimefield_value

        def aware(value: dt.datetime) -> Any:
            # A naive one is made aware with a warning by the field first: that stays the field's.
            return _SLOW if value.utcoffset() is None else adapt(value)

        return {dt.datetime: aware}
    if own is UUIDField and not database.features.has_native_uuid_field:
        return {uuid.UUID: _hex}
    return {}


def _hex(value: uuid.UUID) -> str:
    return value.hex


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
        shape = _shape(model, obj.pk is not None, tuple(late), self.database)
        self._late = shape.late
        self._returning = shape.returning
        # Whether the statement ends with RETURNING (the new key): a caller may add columns of its own to it.
        self.returns: bool = shape.returns
        sql = _STATEMENTS.get(shape.key)
        params = self._plain_values(shape) if sql is not None else None
        if sql is None or params is None:
            fields = shape.fields
            query = InsertQuery(model)
            query.insert_values(fields, [obj])
            compiler = query.get_compiler(connection=self.database)
            if shape.returns:
                compiler.returning_fields = self._returning
            ((sql, compiled),) = compiler.as_sql()
            if len(compiled) != len(fields):  # one placeholder per field, in their order
                raise ValueError(f"the INSERT of {model._meta.label} does not bind one value per field")
            params = list(compiled)
            # Kept only when its text cannot depend on the values: every placeholder the plain "%s" (no field
            # that chooses its own), and no value an expression (read as `pre_save` left them on the instance).
            if (
                not any(hasattr(f, "get_placeholder") for f in fields)
                and not any(hasattr(getattr(obj, f.attname), "resolve_expression") for f in fields)
                and len(_STATEMENTS) < _MAX_STATEMENTS
            ):
                _STATEMENTS[shape.key] = sql
        self.sql: str = sql
        self._params = params

    def _plain_values(self, shape: _Shape) -> list[Any] | None:
        """The instance's values for the shape's fields as the INSERT compiler adapts them (`pre_save(add=True)`,
        then `get_db_prep_save`), or None when one is an expression (its SQL then depends on it). A value of a
        type the field is known to write as it is (`unchanged_types`) is taken without the calls."""
        obj, database = self.obj, self.database
        values = []
        # (shortcut, id of the value) → (the value, kept alive so that its id stays its own, what it answered):
        # several columns of a row often hold one moment
        done: dict[tuple[Any, int], tuple[Any, Any]] = {}
        for field, attname, plain, unchanged, quick in shape.columns:
            value = getattr(obj, attname) if plain else field.pre_save(obj, add=True)
            kind = type(value)
            if kind in unchanged:
                values.append(value)
                continue
            shortcut = quick.get(kind)
            if shortcut is not None:
                key = (shortcut, id(value))
                seen = done.get(key)
                if seen is None:
                    seen = done[key] = (value, shortcut(value))
                adapted = seen[1]
                if adapted is not _SLOW:
                    values.append(adapted)
                    continue
            if hasattr(value, "resolve_expression"):
                return None
            values.append(field.get_db_prep_save(value, connection=database))
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

    def inserted(self, cursor: Any, row: Sequence[Any] | None = None) -> None:
        """Take what the database filled in (the new row's key) from `cursor`, which just ran this statement
        (alone or inside a larger one that returns what it returns), and mark the instance as saved. `row`: this
        statement's returned values when the caller fetched them itself (its larger statement returns more)."""
        obj, meta = self.obj, self.obj._meta
        if self._returning and self.database.features.can_return_columns_from_insert:
            values = cursor.fetchone() if row is None else row
            for value, field in zip(values, self._returning, strict=True):
                setattr(obj, field.attname, value)
        elif self._returning:
            obj.pk = self.database.ops.last_insert_id(cursor, meta.db_table, meta.pk.column)
        obj._state.adding = False
        obj._state.db = self.database.alias


class _Compiled:
    """One compilation of a PreparedSelect for one database connection."""

    def __init__(self, queryset: QuerySet[Any], markers: Sequence[object], alias: str, *, rows: bool = True) -> None:
        if queryset.db != alias:
            raise ValueError("a prepared SELECT reads from the model's database")
        # Only the query's own rows are made here: a prefetch or the related manager's known object is not.
        if getattr(queryset, "_prefetch_related_lookups", ()) or getattr(queryset, "_known_related_objects", {}):
            raise ValueError("a prepared SELECT makes the instances of its own query only (no prefetch)")
        self.sliced = queryset.query.is_sliced
        self.compiler = queryset.query.get_compiler(using=alias)
        self.sql, params = self.compiler.as_sql()
        self.params = list(params)
        self.markers = list(markers)
        # (parameter index, value index, the LIKE pattern the value is escaped into, or None for the value as is)
        self.slots: list[tuple[int, int, str | None]] = []
        for which, marker in enumerate(markers):
            found = 0
            for i, p in enumerate(self.params):
                if type(p) is type(marker) and p == marker:
                    self.slots.append((i, which, None))
                    found += 1
                elif isinstance(marker, str) and isinstance(p, str) and marker in p:
                    self.slots.append((i, which, p))  # contains, startswith, …: "%value%" with the value escaped
                    found += 1
            if not found:
                raise ValueError("a value of the prepared SELECT reaches its SQL 0 times")
        if not rows:
            return
        klass_info = self.compiler.klass_info
        select = self.compiler.select
        if klass_info is None or self.compiler.annotation_col_map:
            raise ValueError("a prepared SELECT makes model instances only")
        self.model: type[Model] = klass_info["model"]
        fields = klass_info["select_fields"]
        self.start, self.end = fields[0], fields[-1] + 1
        self.init_list = [f[0].target.attname for f in select[self.start : self.end]]
        # Where each loaded column goes among the model's fields, the others deferred: what `Model.from_db` works
        # out for every row by looking each field up in the list of loaded names.
        names = set(self.init_list)
        concrete = self.model._meta.concrete_fields
        self.places = [i for i, f in enumerate(concrete) if f.attname in names]
        self.blank: list[Any] = [DEFERRED] * len(concrete)
        self.custom_from_db = any("from_db" in vars(base) for base in self.model.__mro__ if base is not Model)
        # The columns' converters (dates, UUIDs, booleans on SQLite) depend on the statement and the connection
        # only: found once here, as `results_iter` would find them again on every run.
        columns = [column[0] for column in select[: self.compiler.col_count]]
        if self.compiler.has_composite_fields(columns):
            raise ValueError("a prepared SELECT reads no composite fields")
        self.converters = self.compiler.get_converters(columns)
        # The select_related objects, made as ModelIterable makes them.
        self.populators = django_query.get_related_populators(  # type: ignore[attr-defined]
            klass_info, select, alias
        )

    def bind(self, values: Sequence[Any], alias: str) -> list[Any]:
        """The statement's parameters for `values`: each in its places, escaped as the pattern lookups escape it."""
        ops = connections[alias].ops
        params = list(self.params)
        for index, which, pattern in self.slots:
            value = values[which]
            if pattern is not None:
                value = pattern.replace(str(self.markers[which]), ops.prep_for_like_query(value))
            params[index] = value
        return params


class PreparedSelect(Generic[M]):
    """The queryset `build(*markers)` compiled once per process and connection; `run(*values)` binds the values
    in the markers' places and answers the instances the queryset would, `count(*values)` how many. A value may
    reach the statement as it is (an exact lookup on a column: `filter(slug=marker)`) or inside a LIKE pattern
    (`filter(name__icontains=marker)`), as often as the query names it; the preparation checks, by compiling once
    more with other values holding the characters a pattern escapes, that binding gives exactly what the ORM
    writes, and fails otherwise. `kinds` are the values' types (str or int), in order."""

    MAX_CONNECTIONS = 64  # all are dropped when full: one entry per thread's connection, threads are few

    def __init__(self, build: Callable[..., QuerySet[M]], *kinds: type) -> None:
        self.build = build
        self.kinds = kinds
        self._model: type[Model] | None = None
        self._compiled: dict[Any, _Compiled] = {}
        self._counts: dict[Any, _Compiled] = {}
        self._lock = threading.Lock()
        # Held weakly: statements made per shape of a query (the public list's) go away with their holder.
        setting_changed.connect(self._forget)

    def _forget(self, **kwargs: Any) -> None:
        with self._lock:
            self._compiled.clear()
            self._counts.clear()

    def _markers(self, tail: str = "") -> list[object]:
        markers: list[object] = []
        for kind in self.kinds:
            if kind is str:
                markers.append(f"psirt-marker-{secrets.token_hex(16)}{tail}")
            elif kind is int:
                # Inside every integer column's range (PostgreSQL's integer is 32 bits): the ORM compiles an
                # out-of-range value as "matches nothing", and the marker would be lost.
                markers.append((1 << 30) + secrets.randbelow(1 << 30))
            else:
                raise ValueError(f"a prepared SELECT binds str or int values, not {kind.__name__}")
        return markers

    def _prepared(
        self, store: dict[Any, _Compiled], shape: Callable[[QuerySet[M]], QuerySet[Any]], *, rows: bool
    ) -> tuple[str, Any, _Compiled]:
        model = self._model
        if model is None:
            model = self._model = self.build(*self._markers()).model
        alias = router.db_for_read(model)
        connection = connections[alias]
        compiled = store.get(connection)
        if compiled is None:
            markers = self._markers()
            compiled = _Compiled(shape(self.build(*markers)), markers, alias, rows=rows)
            # Values with the characters a LIKE pattern escapes, compiled by the ORM and bound here, must agree.
            probes = self._markers(tail="%_\\'\"")
            sql, params = shape(self.build(*probes)).query.get_compiler(using=alias).as_sql()
            if sql != compiled.sql or list(params) != compiled.bind(probes, alias):
                raise ValueError(
                    "a value of the prepared SELECT reaches its SQL changed in a way binding cannot repeat"
                )
            with self._lock:
                if len(store) >= self.MAX_CONNECTIONS:
                    store.clear()
                store[connection] = compiled
        return alias, connection, compiled

    def _check(self, values: Sequence[Any]) -> None:
        if len(values) != len(self.kinds) or any(type(v) is not k for v, k in zip(values, self.kinds, strict=True)):
            raise TypeError(f"a prepared SELECT takes values of the types {[k.__name__ for k in self.kinds]}")

    def run(self, *values: Any, window: tuple[int, int] | None = None) -> list[M]:
        """The instances; `window` (limit, offset) bound as parameters, so every page of a list shares one
        statement (Django writes a slice's numbers into the SQL). A queryset sliced by `build` takes no window."""
        self._check(values)
        alias, connection, compiled = self._prepared(self._compiled, lambda qs: qs, rows=True)
        params = compiled.bind(values, alias)
        sql = compiled.sql
        if window is not None:
            if compiled.sliced:
                raise ValueError("a sliced prepared SELECT takes no window")
            sql = f"{sql} LIMIT %s OFFSET %s"
            params += [int(window[0]), int(window[1])]
        compiler = compiled.compiler
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        if compiler.has_extra_select:
            rows = [row[: compiler.col_count] for row in rows]
        if compiled.converters:
            rows = compiler.apply_converters(rows, compiled.converters)
        out: list[M] = []
        model, start, end, places, blank = compiled.model, compiled.start, compiled.end, compiled.places, compiled.blank
        for row in rows:
            if compiled.custom_from_db or len(places) != end - start:
                obj = cast(M, model.from_db(alias, compiled.init_list, row[start:end]))
            else:
                # As Model.from_db makes it (the same __init__ and signals), the loaded columns put in place.
                fields = blank.copy()
                for place, value in zip(places, row[start:end], strict=True):
                    fields[place] = value
                obj = cast(M, model(*fields))
                obj._state.adding = False
                obj._state.db = alias
            for populator in compiled.populators:
                populator.populate(row, obj)
            out.append(obj)
        return out

    def _key_statement(self, values: Sequence[Any]) -> tuple[Any, _Compiled, list[Any]]:
        """The statement of the primary keys of the rows `run(*values)` answers, in no order (what `keys` reads and
        `count` counts): its connection, its compilation and its parameters for `values`."""
        self._check(values)
        alias, connection, compiled = self._prepared(self._counts, lambda qs: qs.order_by().values("pk"), rows=False)
        return connection, compiled, compiled.bind(values, alias)

    def keys(self, *values: Any, limit: int) -> list[Any]:
        """The primary keys of at most `limit` of the rows `run(*values)` answers, in no order: the statement
        `count` counts, read up to `limit` rows (so it stops early when there are many)."""
        connection, compiled, params = self._key_statement(values)
        if compiled.sliced:
            raise ValueError("a sliced prepared SELECT takes no limit")
        with connection.cursor() as cursor:
            cursor.execute(f"{compiled.sql} LIMIT %s", [*params, int(limit)])
            return [row[0] for row in cursor.fetchall()]

    def count(self, *values: Any) -> int:
        """How many rows `run(*values)` answers (without a window), as the queryset's `count()` would: the
        rows' keys counted in the database, in no order."""
        connection, compiled, params = self._key_statement(values)
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT COUNT(*) FROM ({compiled.sql}) counted", params)  # noqa: S608
            return int(cursor.fetchone()[0])


def first_row(queryset: QuerySet[M]) -> QuerySet[M]:
    """The query `queryset.first()` runs: the queryset's own order (else the primary key's), one row."""
    return (queryset if queryset.ordered else queryset.order_by("pk"))[:1]

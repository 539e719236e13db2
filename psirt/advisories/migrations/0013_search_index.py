from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.utils import OperationalError

# SQLite only: a trigram index of the search column (FTS5), kept by triggers on the advisories table so that every
# write, whichever path makes it, keeps it current. A search for three characters or more first asks it which rows
# hold every trigram of the text, then matches the text itself on those rows alone (see docs/advisories.md). A
# SQLite built without FTS5's trigram tokenizer gets no index: the search then scans the column, as before.
TABLE = "advisory_search"
TRIGGERS = {
    "advisory_search_insert": (
        f'AFTER INSERT ON "advisories_advisory" BEGIN '
        f'INSERT INTO "{TABLE}" (rowid, search_text) VALUES (new.id, new.search_text); END'
    ),
    "advisory_search_update": (
        f'AFTER UPDATE ON "advisories_advisory" '
        f"WHEN old.search_text IS NOT new.search_text OR old.id IS NOT new.id BEGIN "
        f'DELETE FROM "{TABLE}" WHERE rowid = old.id; '
        f'INSERT INTO "{TABLE}" (rowid, search_text) VALUES (new.id, new.search_text); END'
    ),
    "advisory_search_delete": (
        f'AFTER DELETE ON "advisories_advisory" BEGIN DELETE FROM "{TABLE}" WHERE rowid = old.id; END'
    ),
}


def add_index(apps: object, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor != "sqlite":
        return
    try:
        # detail=none: the index answers which rows hold a trigram, not where; the text is matched on those rows.
        schema_editor.execute(
            f"CREATE VIRTUAL TABLE \"{TABLE}\" USING fts5(search_text, tokenize='trigram', detail='none')"
        )
    except OperationalError:
        return  # no FTS5 or no trigram tokenizer (SQLite before 3.34): searches scan the column
    schema_editor.execute(
        f'INSERT INTO "{TABLE}" (rowid, search_text) SELECT id, search_text FROM "advisories_advisory"'  # noqa: S608
    )
    for name, body in TRIGGERS.items():
        schema_editor.execute(f'CREATE TRIGGER "{name}" {body}')


def drop_index(apps: object, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor != "sqlite":
        return
    for name in TRIGGERS:
        schema_editor.execute(f'DROP TRIGGER IF EXISTS "{name}"')
    schema_editor.execute(f'DROP TABLE IF EXISTS "{TABLE}"')


class Migration(migrations.Migration):
    dependencies = [
        ("advisories", "0012_search_text"),
    ]

    operations = [
        migrations.RunPython(add_index, drop_index, elidable=False),
    ]

"""A filing's own notes as a code and its facts (worded per language by `Filing.note_text`)."""

from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor


def keep_filings_append_only(apps: object, schema_editor: BaseDatabaseSchemaEditor) -> None:
    # SQLite adds these columns by rebuilding the table, which drops its triggers: put the append-only trigger of
    # 0001 back (PostgreSQL adds columns in place and keeps it).
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(
            "CREATE TRIGGER IF NOT EXISTS regulatory_filing_no_update BEFORE UPDATE ON regulatory_filing "
            "BEGIN SELECT RAISE(ABORT, 'regulatory filings are append-only'); END"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("regulatory", "0002_retention_triggers"),
    ]

    operations = [
        migrations.AddField(
            model_name="filing",
            name="note_code",
            field=models.CharField(blank=True, db_default="", default="", max_length=32),
        ),
        migrations.AddField(
            model_name="filing",
            name="recipients",
            field=models.PositiveIntegerField(blank=True, null=True),
        ),
        migrations.RunPython(keep_filings_append_only, migrations.RunPython.noop, elidable=False),
    ]

"""Reporting records are kept at least 183 days at the database too: on PostgreSQL a DELETE of an obligation or
an evidence file row before the end of its obligation's retention period fails, whichever code path (raw SQL, a
bulk ORM call, the admin) tries it. The period is the one of `Obligation.retained_until`: 183 days after the
latest of awareness, the decision, the last filing and the last evidence file. SQLite gets no DELETE trigger, for
the reason given in 0001 (a flush empties tables with DELETE); the models refuse such deletes on both engines.
"""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

# Keep equal to psirt.regulatory.models.RETENTION_DAYS (a migration does not import the live models).
DAYS = 183

POSTGRES = [
    "CREATE FUNCTION regulatory_retained_until(obligation_id bigint) RETURNS timestamptz LANGUAGE sql STABLE AS $$ "
    "SELECT GREATEST(o.aware_at, o.decided_at, "
    "(SELECT max(f.recorded_at) FROM regulatory_filing f WHERE f.obligation_id = o.id), "
    "(SELECT max(e.added_at) FROM regulatory_evidencefile e WHERE e.obligation_id = o.id)) "
    f"+ interval '{DAYS} days' FROM regulatory_obligation o WHERE o.id = obligation_id $$",
    "CREATE FUNCTION regulatory_retention_check() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "DECLARE target bigint; BEGIN "
    "IF TG_TABLE_NAME = 'regulatory_obligation' THEN target := OLD.id; ELSE target := OLD.obligation_id; END IF; "
    "IF now() < regulatory_retained_until(target) THEN "
    f"RAISE EXCEPTION 'regulatory records are kept at least {DAYS} days'; END IF; "
    "RETURN OLD; END $$",
    "CREATE TRIGGER regulatory_obligation_retention BEFORE DELETE ON regulatory_obligation "
    "FOR EACH ROW EXECUTE FUNCTION regulatory_retention_check()",
    "CREATE TRIGGER regulatory_evidencefile_retention BEFORE DELETE ON regulatory_evidencefile "
    "FOR EACH ROW EXECUTE FUNCTION regulatory_retention_check()",
]


def protect(apps: object, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        for sql in POSTGRES:
            schema_editor.execute(sql)


def unprotect(apps: object, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP TRIGGER IF EXISTS regulatory_obligation_retention ON regulatory_obligation")
        schema_editor.execute("DROP TRIGGER IF EXISTS regulatory_evidencefile_retention ON regulatory_evidencefile")
        schema_editor.execute("DROP FUNCTION IF EXISTS regulatory_retention_check()")
        schema_editor.execute("DROP FUNCTION IF EXISTS regulatory_retained_until(bigint)")


class Migration(migrations.Migration):
    dependencies = [("regulatory", "0001_obligations_filings_reminders")]

    operations = [migrations.RunPython(protect, unprotect, elidable=False)]

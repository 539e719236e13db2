"""AdvisorySequence's counters become the "advisory" scope of counters.Sequence; the old table goes."""

from django.apps.registry import Apps
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

SCOPE = "advisory"


def carry_over(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    old = apps.get_model("advisories", "AdvisorySequence")
    sequence = apps.get_model("counters", "Sequence")
    for row in old.objects.all():
        sequence.objects.update_or_create(scope=SCOPE, year=row.year, defaults={"last": row.last})


def carry_back(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    old = apps.get_model("advisories", "AdvisorySequence")
    sequence = apps.get_model("counters", "Sequence")
    for row in sequence.objects.filter(scope=SCOPE):
        old.objects.update_or_create(year=row.year, defaults={"last": row.last})
    sequence.objects.filter(scope=SCOPE).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("advisories", "0003_source_csaf"),
        ("counters", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(carry_over, carry_back),
        migrations.DeleteModel(name="AdvisorySequence"),
    ]

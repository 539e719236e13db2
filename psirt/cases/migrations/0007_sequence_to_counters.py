"""CaseSequence's counters become the "case" scope of counters.Sequence; the old table goes."""

from django.apps.registry import Apps
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

SCOPE = "case"


def carry_over(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    old = apps.get_model("cases", "CaseSequence")
    sequence = apps.get_model("counters", "Sequence")
    for row in old.objects.all():
        sequence.objects.update_or_create(scope=SCOPE, year=row.year, defaults={"last": row.last})


def carry_back(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    old = apps.get_model("cases", "CaseSequence")
    sequence = apps.get_model("counters", "Sequence")
    for row in sequence.objects.filter(scope=SCOPE):
        old.objects.update_or_create(year=row.year, defaults={"last": row.last})
    sequence.objects.filter(scope=SCOPE).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0006_line_engineers_on_the_user"),
        ("counters", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(carry_over, carry_back),
        migrations.DeleteModel(name="CaseSequence"),
    ]

"""The rate-limit windows move to counters.RateCounter (rows in flight carried over); the old table goes."""

from django.apps.registry import Apps
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

FIELDS = ("key", "window_start", "expires_at", "count")


def copy_rows(source: type, target: type) -> None:
    target.objects.bulk_create(
        [target(**{f: getattr(row, f) for f in FIELDS}) for row in source.objects.all()], batch_size=500
    )


def carry_over(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    copy_rows(apps.get_model("intake", "RateCounter"), apps.get_model("counters", "RateCounter"))


def carry_back(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    copy_rows(apps.get_model("counters", "RateCounter"), apps.get_model("intake", "RateCounter"))
    apps.get_model("counters", "RateCounter").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("intake", "0003_sequence_to_counters"),
        ("counters", "0002_ratecounter"),
    ]

    operations = [
        migrations.RunPython(carry_over, carry_back),
        migrations.DeleteModel(name="RateCounter"),
    ]

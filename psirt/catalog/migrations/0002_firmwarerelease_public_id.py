"""Give firmware releases a random public identifier for desk URLs (no integer keys in URLs).

Three steps, so existing rows each get their own UUID before the unique constraint applies."""

import uuid

from django.db import migrations, models


def fill_public_ids(apps, schema_editor):
    FirmwareRelease = apps.get_model("catalog", "FirmwareRelease")
    for release in FirmwareRelease.objects.filter(public_id__isnull=True).only("pk"):
        release.public_id = uuid.uuid4()
        release.save(update_fields=["public_id"])


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="firmwarerelease",
            name="public_id",
            field=models.UUIDField(null=True, editable=False),
        ),
        migrations.RunPython(fill_public_ids, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="firmwarerelease",
            name="public_id",
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True),
        ),
    ]

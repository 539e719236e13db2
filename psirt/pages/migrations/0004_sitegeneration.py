"""The site generation row (see psirt.pages.generation), with a token of its own per database."""

import secrets

from django.db import migrations, models


def create_row(apps, schema_editor):
    SiteGeneration = apps.get_model("pages", "SiteGeneration")
    SiteGeneration.objects.get_or_create(id=1, defaults={"n": 0, "token": secrets.token_hex(16)})


class Migration(migrations.Migration):
    dependencies = [
        ("pages", "0003_default_pages"),
    ]

    operations = [
        migrations.CreateModel(
            name="SiteGeneration",
            fields=[
                ("id", models.PositiveSmallIntegerField(default=1, editable=False, primary_key=True, serialize=False)),
                ("n", models.BigIntegerField(default=0)),
                ("token", models.CharField(default="", max_length=32)),
            ],
            options={
                "verbose_name": "site generation",
                "verbose_name_plural": "site generation",
            },
        ),
        migrations.RunPython(create_row, migrations.RunPython.noop),
    ]

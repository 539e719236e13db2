"""The organization profile belongs to the organization app; its table and row go with it there."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("organization", "0001_initial"),
        ("pages", "0004_sitegeneration"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="OrganizationProfile")],
            database_operations=[],
        ),
    ]

"""The leads' calendar days belong to the organization app; their table and rows go with them there."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0004_remediation"),
        ("organization", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="CalendarDay")],
            database_operations=[],
        ),
    ]

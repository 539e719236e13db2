"""The organization profile and the leads' calendar days join this app with their rows.

The tables already exist (created by `pages` and `cases`): the models enter this app's state only, then the
tables take this app's names, and the content types (with their admin permissions and history) follow.
"""

import django.core.validators
import django.utils.timezone
from django.db import migrations, models

MOVED = [("pages", "organizationprofile"), ("cases", "calendarday")]


def move_content_types(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    for old_app, model in MOVED:
        if not ContentType.objects.using(db).filter(app_label="organization", model=model).exists():
            ContentType.objects.using(db).filter(app_label=old_app, model=model).update(app_label="organization")


def restore_content_types(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    for old_app, model in MOVED:
        if not ContentType.objects.using(db).filter(app_label=old_app, model=model).exists():
            ContentType.objects.using(db).filter(app_label="organization", model=model).update(app_label=old_app)


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0004_remediation"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("pages", "0004_sitegeneration"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="OrganizationProfile",
                    fields=[
                        ("id", models.PositiveSmallIntegerField(default=1, editable=False, primary_key=True, serialize=False)),
                        ("name_en", models.CharField(default="Example Devices", max_length=200, verbose_name="vendor name (English)")),
                        ("name_zh", models.CharField(blank=True, max_length=200, verbose_name="vendor name (Chinese)")),
                        ("advisory_prefix", models.CharField(default="PSIRT", help_text="Advisories are numbered <PREFIX>-SA-<YEAR>-<NNN>.", max_length=12, validators=[django.core.validators.RegexValidator("^[A-Z][A-Z0-9]{1,11}$", "Use 2–12 capital letters or digits, e.g. VT.")], verbose_name="advisory ID prefix")),
                        ("security_email", models.EmailField(default="security@example.com", max_length=254, verbose_name="security contact e-mail")),
                        ("lab_email", models.EmailField(blank=True, max_length=254, verbose_name="security lab e-mail")),
                        ("website", models.URLField(blank=True, verbose_name="vendor website")),
                        ("pgp_public_key", models.TextField(blank=True, verbose_name="team OpenPGP public key")),
                        ("footer_en", models.CharField(blank=True, max_length=300, verbose_name="footer line (English)")),
                        ("footer_zh", models.CharField(blank=True, max_length=300, verbose_name="footer line (Chinese)")),
                        ("calendar_country", models.CharField(default="CN", help_text="ISO 3166 code for public holidays.", max_length=2, verbose_name="calendar country")),
                        ("ack_business_days", models.PositiveSmallIntegerField(default=5, verbose_name="acknowledge within (business days)")),
                        ("remediation_days", models.PositiveSmallIntegerField(default=90, verbose_name="remediate within (days)")),
                        ("updated_at", models.DateTimeField(auto_now=True)),
                    ],
                    options={
                        "verbose_name": "organization profile",
                        "verbose_name_plural": "organization profile",
                        "db_table": "pages_organizationprofile",
                    },
                ),
                migrations.CreateModel(
                    name="CalendarDay",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("date", models.DateField(unique=True, verbose_name="date")),
                        ("kind", models.CharField(choices=[("holiday", "Day off"), ("workday", "Working day")], max_length=10, verbose_name="kind")),
                        ("note", models.CharField(blank=True, max_length=200, verbose_name="note")),
                        ("created_at", models.DateTimeField(default=django.utils.timezone.now, editable=False)),
                    ],
                    options={
                        "verbose_name": "calendar day",
                        "verbose_name_plural": "calendar days",
                        "ordering": ["date"],
                        "db_table": "cases_calendarday",
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.AlterModelTable(name="organizationprofile", table=None),
        migrations.AlterModelTable(name="calendarday", table=None),
        migrations.RunPython(move_content_types, restore_content_types),
    ]

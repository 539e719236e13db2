"""One severity vocabulary and one severity rule for advisories.

- The publication policy's lowest threshold is stored as "None" (the lowest FIRST rating, as a subscriber's
  minimum severity is), where it was "any"; it still admits every advisory.
- Every advisory's `severity` and sort `score` are recomputed by `psirt.lib.cvss.decisive_rating` (v4.0 base +
  threat when a v4.0 vector is set, else v3.1 temporal), where they used to be the highest base score. An
  advisory without vectors keeps the severity it has (an imported document's own rating words).
"""

from django.db import migrations, models

from psirt.lib.cvss import CvssError, decisive_rating


def forwards(apps, schema_editor):
    PublicationPolicy = apps.get_model("advisories", "PublicationPolicy")
    Advisory = apps.get_model("advisories", "Advisory")
    PublicationPolicy.objects.filter(minimum_severity="any").update(minimum_severity="None")
    for advisory in Advisory.objects.exclude(cvss31_vector="", cvss40_vector="").only(
        "id", "severity", "score", "cvss31_vector", "cvss40_vector"
    ):
        try:
            rating = decisive_rating(advisory.cvss31_vector, advisory.cvss40_vector)
        except CvssError:
            continue  # a vector stored before today's validation: left as it was, the next edit re-scores it
        if rating is None:
            continue
        if (advisory.severity, advisory.score) != (rating.severity, rating.score):
            Advisory.objects.filter(id=advisory.id).update(severity=rating.severity, score=rating.score)


def backwards(apps, schema_editor):
    PublicationPolicy = apps.get_model("advisories", "PublicationPolicy")
    PublicationPolicy.objects.filter(minimum_severity="None").update(minimum_severity="any")


class Migration(migrations.Migration):
    dependencies = [
        ("advisories", "0007_fact_overrides"),
    ]

    operations = [
        migrations.AlterField(
            model_name="publicationpolicy",
            name="minimum_severity",
            field=models.CharField(
                choices=[
                    ("None", "Any severity"),
                    ("Low", "Low and above"),
                    ("Medium", "Medium and above"),
                    ("High", "High and above"),
                    ("Critical", "Critical only"),
                ],
                default="None",
                max_length=10,
                verbose_name="minimum severity",
            ),
        ),
        migrations.RunPython(forwards, backwards),
    ]

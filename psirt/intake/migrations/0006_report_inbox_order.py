from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("intake", "0005_report_next_token"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="report",
            index=models.Index(fields=["inbox_state", "created_at", "id"], name="intake_report_inbox_order"),
        ),
    ]

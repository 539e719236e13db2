"""Version 1 of the publication policy: the policy psirt enforced before it became configuration (a fix or a
sufficient mitigation, any severity, the agreed date has come; expedite when actively exploited or of public
concern, with or without a fix)."""

from django.apps.registry import Apps
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor


def create_v1(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    policy = apps.get_model("advisories", "PublicationPolicy")
    if not policy.objects.exists():
        policy.objects.create(
            version=1,
            minimum_severity="any",
            required_remedy="either",
            require_disclosure_date=True,
            expedite_when_exploited=True,
            expedite_when_public_concern=True,
            expedite_other_triggers="",
            expedite_requires_fix=False,
        )


def remove_v1(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    apps.get_model("advisories", "PublicationPolicy").objects.filter(version=1, created_by=None).delete()


class Migration(migrations.Migration):
    dependencies = [("advisories", "0005_publication_policy")]

    operations = [migrations.RunPython(create_v1, remove_v1)]

"""A product engineer's product lines are `User.product_lines`: the line invitations become those rows."""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps


def carry_line_invitations(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    line_invitation = apps.get_model("cases", "LineInvitation")
    user = apps.get_model("accounts", "User")
    through = user.product_lines.through
    through.objects.using(schema_editor.connection.alias).bulk_create(
        [
            through(user_id=row.engineer_id, productline_id=row.product_line_id)
            for row in line_invitation.objects.using(schema_editor.connection.alias).all()
        ],
        ignore_conflicts=True,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0005_calendarday_to_organization"),
        ("accounts", "0002_user_public_id"),
    ]

    operations = [
        migrations.RunPython(carry_line_invitations, migrations.RunPython.noop),
        migrations.DeleteModel(name="LineInvitation"),
    ]

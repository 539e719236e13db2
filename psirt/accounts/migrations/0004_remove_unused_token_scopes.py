"""Stored API tokens lose the scopes that no endpoint ever checked (reports:write, advisories:read,
advisories:write, catalog:write): a token shows what it can actually do."""

from __future__ import annotations

from typing import Any

from django.db import migrations

REMOVED = frozenset({"reports:write", "advisories:read", "advisories:write", "catalog:write"})


def remove_unused_scopes(apps: Any, schema_editor: Any) -> None:
    ApiToken = apps.get_model("accounts", "ApiToken")
    for token in ApiToken.objects.all().only("pk", "scopes"):
        scopes = list(token.scopes or [])
        kept = [scope for scope in scopes if scope not in REMOVED]
        if kept != scopes:
            token.scopes = kept
            token.save(update_fields=["scopes"])


class Migration(migrations.Migration):
    dependencies = [("accounts", "0003_product_lines_help")]

    operations = [migrations.RunPython(remove_unused_scopes, migrations.RunPython.noop)]

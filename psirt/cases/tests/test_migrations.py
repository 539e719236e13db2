"""Data migrations of the case desk keep what leads decided."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("cases", "0004_remediation"), ("accounts", "0002_user_public_id")]
AFTER = ("cases", "0006_line_engineers_on_the_user")


@pytest.mark.django_db(transaction=True)
def test_line_invitations_become_the_engineers_product_lines() -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    line = old.get_model("catalog", "ProductLine").objects.create(slug="cams", name_en="Cameras")
    user_model = old.get_model("accounts", "User")
    engineer = user_model.objects.create(email="line-engineer@m.test", role="engineer")
    other = user_model.objects.create(email="other-engineer@m.test", role="engineer")
    old.get_model("cases", "LineInvitation").objects.create(product_line=line, engineer=engineer)

    executor = MigrationExecutor(connection)
    executor.migrate([AFTER])
    new = executor.loader.project_state([AFTER]).apps
    users = new.get_model("accounts", "User").objects
    assert list(users.get(pk=engineer.pk).product_lines.values_list("slug", flat=True)) == ["cams"]
    assert not users.get(pk=other.pk).product_lines.exists()

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

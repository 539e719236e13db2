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


@pytest.mark.django_db(transaction=True)
def test_the_stored_next_deadline_is_added_to_a_table_that_has_cases() -> None:
    # SQLite refuses to add a stored generated column to a table with rows; an installation with cases must
    # still upgrade, and the column must hold each existing case's deadline at once.
    import datetime as dt

    from django.utils import timezone

    before = [("cases", "0012_case_created_index")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    due = timezone.now().replace(microsecond=0) + dt.timedelta(days=5)
    common = {"year": 2026, "title": "t", "received_at": timezone.now()}
    new_case = old.get_model("cases", "Case").objects.create(
        key="CASE-2026-0001", number=1, state="new", ack_due_at=due, **common
    )
    fixing = old.get_model("cases", "Case").objects.create(
        key="CASE-2026-0002",
        number=2,
        state="remediation",
        acknowledged_at=timezone.now(),
        remediation_due_at=due + dt.timedelta(days=60),
        **common,
    )
    closed = old.get_model("cases", "Case").objects.create(
        key="CASE-2026-0003", number=3, state="closed", remediation_due_at=due, **common
    )

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    from psirt.cases.models import Case

    stored = dict(Case.objects.values_list("pk", "next_due"))
    assert stored == {new_case.pk: due, fixing.pk: due + dt.timedelta(days=60), closed.pk: None}


@pytest.mark.django_db(transaction=True)
def test_the_assignment_index_by_person_is_added_to_a_table_that_has_assignments() -> None:
    from django.utils import timezone

    before = [("cases", "0013_next_due")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    handler = old.get_model("accounts", "User").objects.create(email="indexed-handler@m.test", role="handler")
    case = old.get_model("cases", "Case").objects.create(
        key="CASE-2026-0001", year=2026, number=1, title="t", state="new", received_at=timezone.now()
    )
    old.get_model("cases", "Assignment").objects.create(case=case, user=handler)

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    from psirt.cases.models import Assignment

    with connection.cursor() as cursor:
        indexes = connection.introspection.get_constraints(cursor, Assignment._meta.db_table)
    assert indexes["assignment_user_case"]["columns"] == ["user_id", "case_id"]
    assert list(Assignment.objects.values_list("case_id", "user_id")) == [(case.pk, handler.pk)]

"""The upgrade to the one severity rule recomputes what was stored under the old ones: a case's severity (from
the environmental score of the vector set last) with its remediation deadline, an advisory's severity and sort
score (from the highest base score), and the policy's "any" threshold."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

BEFORE = [("cases", "0008_reporter_contact_share"), ("advisories", "0007_fact_overrides")]
AFTER = [("cases", "0009_decisive_severity"), ("advisories", "0008_decisive_severity")]
V31 = "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:L/A:N/E:P/RL:O/RC:C/CR:H/IR:H/MAV:N"  # env HIGH, temporal MEDIUM
V40 = "CVSS:4.0/AV:N/AC:L/AT:N/PR:L/UI:N/VC:H/VI:L/VA:N/SC:N/SI:N/SA:N/E:P"  # base HIGH, base + threat MEDIUM


@pytest.mark.django_db(transaction=True)
def test_stored_severities_follow_the_one_rule_after_the_upgrade() -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    Case = old.get_model("cases", "Case")
    Advisory = old.get_model("advisories", "Advisory")
    Policy = old.get_model("advisories", "PublicationPolicy")
    old.get_model("cases", "RemediationPolicy").objects.create(severity="Medium", days=60)
    confirmed = timezone.now() - dt.timedelta(days=3)
    common = {"year": 2026, "received_at": confirmed}
    fixing = Case.objects.create(
        key="CASE-2026-0001",
        number=1,
        title="t",
        state="remediation",
        cvss31_vector=V31,
        cvss40_vector=V40,
        severity="High",
        confirmed_at=confirmed,
        remediation_due_at=confirmed + dt.timedelta(days=30),
        **common,
    )
    closed = Case.objects.create(
        key="CASE-2026-0002",
        number=2,
        title="t",
        state="closed",
        cvss31_vector=V31,
        severity="High",
        confirmed_at=confirmed,
        remediation_due_at=confirmed,
        **common,
    )
    unscored = Case.objects.create(key="CASE-2026-0003", number=3, title="t", severity="", **common)
    advisory = Advisory.objects.create(
        advisory_id="VT-SA-2026-001",
        year=2026,
        number=1,
        title_en="t",
        cvss31_vector=V31,
        cvss40_vector=V40,
        cvss31_base=Decimal("7.1"),
        cvss40_base=Decimal("7.1"),
        score=Decimal("7.1"),
        severity="High",
    )
    imported = Advisory.objects.create(advisory_id="X-1", year=2026, number=2, title_en="t", severity="Low")
    # The policy row the data migration wrote may be gone (a transactional test empties the tables).
    Policy.objects.update_or_create(version=1, defaults={"minimum_severity": "any"})
    Policy.objects.all().update(minimum_severity="any")

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(AFTER)
    new = executor.loader.project_state(AFTER).apps
    Case = new.get_model("cases", "Case")
    Advisory = new.get_model("advisories", "Advisory")
    fixing = Case.objects.get(pk=fixing.pk)
    assert fixing.severity == "Medium"
    assert fixing.remediation_due_at == confirmed + dt.timedelta(days=60)  # the deadline followed the severity
    closed = Case.objects.get(pk=closed.pk)
    assert (closed.severity, closed.remediation_due_at) == ("Medium", confirmed)  # closed: the date stays history
    assert Case.objects.get(pk=unscored.pk).severity == ""
    advisory = Advisory.objects.get(pk=advisory.pk)
    assert (advisory.severity, advisory.score) == ("Medium", Decimal("5.7"))
    assert Advisory.objects.get(pk=imported.pk).severity == "Low"  # no vector: its own rating stays
    # Back to the newest migrations of every app, for the tests that run after this one.
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    assert set(new.get_model("advisories", "PublicationPolicy").objects.values_list("minimum_severity", flat=True)) == {
        "None"
    }


@pytest.mark.django_db
def test_an_advisory_with_a_stored_vector_that_no_longer_parses_is_refused_with_the_reason(
    draft: Any, lead: Any
) -> None:
    from psirt.advisories import services
    from psirt.advisories.exceptions import InvalidInput
    from psirt.advisories.models import Advisory

    Advisory.objects.filter(pk=draft.pk).update(cvss40_vector="CVSS:4.0/AV:N")
    draft.refresh_from_db()
    with pytest.raises(InvalidInput, match="CVSS vector: Missing base metrics"):
        services.update_advisory(advisory=draft, actor=lead, changes={"title_en": "New title"})

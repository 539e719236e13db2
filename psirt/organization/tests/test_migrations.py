"""The profile and the leads' calendar days keep their rows when they join the organization app."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from psirt.organization.models import CalendarDay

BEFORE = [("pages", "0004_sitegeneration"), ("cases", "0004_remediation")]
# Unapplying the organization app unapplies what depends on it: the two state moves out of pages and cases.
UNAPPLY = [("organization", None)]
AFTER = [("pages", "0005_organizationprofile_to_organization"), ("cases", "0005_calendarday_to_organization")]


@pytest.fixture
def migrated_back(transactional_db: None) -> Iterator[MigrationExecutor]:
    executor = MigrationExecutor(connection)
    executor.migrate(UNAPPLY)
    yield executor
    # Leave the schema as every other test expects it.
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


def test_rows_and_content_types_follow_the_models(migrated_back: MigrationExecutor) -> None:
    old = migrated_back.loader.project_state(BEFORE).apps
    old_profile = old.get_model("pages", "OrganizationProfile")
    old_day = old.get_model("cases", "CalendarDay")
    old_profile.objects.update_or_create(id=1, defaults={"name_en": "Acme Cameras", "calendar_country": "DE"})
    old_day.objects.create(date=dt.date(2026, 3, 9), kind="holiday", note="Company retreat")
    old_types = ContentType.objects.filter(
        app_label__in=["pages", "cases"], model__in=["organizationprofile", "calendarday"]
    )
    type_ids = set(old_types.values_list("id", flat=True))

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)

    # The profile as these migrations leave it: later migrations add columns the current model reads.
    profile = (
        executor.loader.project_state(AFTER).apps.get_model("organization", "OrganizationProfile").objects.get(id=1)
    )
    assert (profile.name_en, profile.calendar_country) == ("Acme Cameras", "DE")
    day = CalendarDay.objects.get()
    assert (day.date, day.kind, day.note) == (dt.date(2026, 3, 9), "holiday", "Company retreat")
    tables = connection.introspection.table_names()
    assert "organization_organizationprofile" in tables and "organization_calendarday" in tables
    assert "pages_organizationprofile" not in tables and "cases_calendarday" not in tables
    moved = ContentType.objects.filter(app_label="organization")
    assert type_ids <= set(moved.values_list("id", flat=True))

"""The per-process copy of the profile and the calendar: an edit is seen by the next read, in every process."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from psirt.lib import kept as kept_module
from psirt.organization import models as org_models
from psirt.organization.models import CalendarDay, CalendarDayKind, OrganizationProfile
from psirt.organization.queries import acknowledgment_due, organization_calendar

pytestmark = pytest.mark.django_db

DAY = dt.date(2026, 3, 4)  # a Wednesday, a working day in China


def test_a_second_read_is_one_small_query_and_a_copy_of_its_own() -> None:
    OrganizationProfile.get()  # creates the row on a new database
    first = OrganizationProfile.get()
    with CaptureQueriesContext(connection) as queries:
        second = OrganizationProfile.get()
    assert len(queries) == 1 and "change_token" in queries[0]["sql"], queries.captured_queries
    assert second is not first and second.name_en == first.name_en
    second.name_en = "Changed here only"
    assert OrganizationProfile.get().name_en == first.name_en


def test_an_edit_is_seen_by_the_next_read() -> None:
    OrganizationProfile.get()
    profile = OrganizationProfile.objects.get(id=1)
    profile.name_en = "Acme"
    profile.ack_business_days = 2
    profile.save()
    assert (OrganizationProfile.get().name_en, OrganizationProfile.get().ack_business_days) == ("Acme", 2)


def test_an_edit_committed_by_another_process_is_seen() -> None:
    """Another process changes the row and its token with SQL; this process's copy is not used any more."""
    OrganizationProfile.get()
    OrganizationProfile.objects.filter(id=1).update(name_en="Elsewhere")
    org_models.bump_change_token()
    assert OrganizationProfile.get().name_en == "Elsewhere"


def test_a_rolled_back_edit_is_not_served_afterwards() -> None:
    OrganizationProfile.get()
    with pytest.raises(RuntimeError), transaction.atomic():
        profile = OrganizationProfile.objects.get(id=1)
        profile.name_en = "Never committed"
        profile.save()
        assert OrganizationProfile.get().name_en == "Never committed"  # the transaction sees its own change
        raise RuntimeError
    assert OrganizationProfile.get().name_en != "Never committed"


def test_a_calendar_day_set_or_removed_counts_from_the_next_calendar() -> None:
    assert organization_calendar().is_business_day(DAY)
    day = CalendarDay.objects.create(date=DAY, kind=CalendarDayKind.HOLIDAY)
    assert not organization_calendar().is_business_day(DAY)
    CalendarDay.objects.filter(pk=day.pk).delete()
    assert organization_calendar().is_business_day(DAY)


def test_the_calendar_follows_the_profiles_country() -> None:
    profile = OrganizationProfile.get()
    assert organization_calendar(profile).is_business_day(dt.date(2026, 10, 2)) is False  # National Day week
    profile.calendar_country = "DE"
    profile.save()
    assert organization_calendar().is_business_day(dt.date(2026, 10, 2))  # a Friday in Germany


def test_a_raw_write_that_does_not_say_so_is_seen_within_the_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    OrganizationProfile.get()
    OrganizationProfile.get()
    OrganizationProfile.objects.filter(id=1).update(name_en="Raw SQL")
    assert OrganizationProfile.get().name_en != "Raw SQL"  # the token was not replaced: the copy is still used
    later = kept_module.time.monotonic() + org_models.KEEP_AT_MOST + 1
    monkeypatch.setattr(kept_module.time, "monotonic", lambda: later)
    assert OrganizationProfile.get().name_en == "Raw SQL"


def test_the_calendar_reads_the_change_token_once() -> None:
    """The profile is read with its change token, and the calendar kept under that token: no second read."""
    OrganizationProfile.get()  # creates the row on a new database
    organization_calendar()
    with CaptureQueriesContext(connection) as queries:
        organization_calendar()
        acknowledgment_due(dt.datetime(2026, 3, 4, 10, 0, tzinfo=dt.UTC))
    assert [q["sql"] for q in queries.captured_queries if "change_token" in q["sql"]] == [
        queries.captured_queries[0]["sql"]
    ] * 2, queries.captured_queries
    assert len(queries) == 2


def test_a_profile_passed_without_its_token_gets_the_current_calendar() -> None:
    """A caller's profile may be older than the leads' days: without the token it was read under, the token is
    read again, so a day set since counts."""
    profile = OrganizationProfile.get()
    assert organization_calendar(profile).is_business_day(DAY)
    CalendarDay.objects.create(date=DAY, kind=CalendarDayKind.HOLIDAY)
    assert not organization_calendar(profile).is_business_day(DAY)


def test_a_profile_read_with_its_token_gets_the_calendar_of_that_token() -> None:
    OrganizationProfile.get()  # creates the row on a new database
    profile, token = org_models.read_profile()
    assert token is not None and token == profile.change_token
    assert organization_calendar(profile, token).is_business_day(DAY)
    CalendarDay.objects.create(date=DAY, kind=CalendarDayKind.HOLIDAY)
    profile, token = org_models.read_profile()
    assert not organization_calendar(profile, token).is_business_day(DAY)


def test_each_copy_has_a_model_state_of_its_own() -> None:
    """A copy is made as `copy.copy` makes a model instance: its fields and its saved-state record its own."""
    OrganizationProfile.get()
    first, second = OrganizationProfile.get(), OrganizationProfile.get()
    assert first._state is not second._state and first._state.fields_cache is not second._state.fields_cache
    assert (first._state.adding, first._state.db) == (False, "default")
    second._state.db = "elsewhere"
    second._state.fields_cache["x"] = 1
    second.__dict__["ack_business_days"] = 99
    third = OrganizationProfile.get()
    assert (third._state.db, third._state.fields_cache) == ("default", {})
    assert third.ack_business_days == first.ack_business_days != 99
    assert third.pk == 1 and third.change_token == first.change_token

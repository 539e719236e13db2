"""Changing the organization profile: validated, audited with the changed fields, one row for ever."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pysequoia
import pytest
from django.contrib.admin.sites import site
from django.core.exceptions import ValidationError
from django.test import RequestFactory
from django.utils import translation

from psirt.accounts.models import User
from psirt.audit.models import AuditEvent
from psirt.organization.exceptions import NotAllowed
from psirt.organization.models import OrganizationProfile
from psirt.organization.queries import acknowledgment_due
from psirt.organization.services import remove_calendar_day, set_calendar_day, update_organization
from psirt.pages import generation

pytestmark = pytest.mark.django_db

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


def test_a_change_is_saved_and_audited_with_the_changed_fields(lead: User) -> None:
    profile = update_organization(actor=lead, name_en="Acme Cameras", advisory_prefix="AC", website="")
    assert OrganizationProfile.get().name_en == "Acme Cameras" and profile.advisory_prefix == "AC"
    event = AuditEvent.objects.get(action="pages.organization.update")
    assert event.actor == lead
    assert event.data == {"fields": ["advisory_prefix", "name_en"]}


def test_nothing_changed_records_nothing(lead: User) -> None:
    update_organization(actor=lead, name_en=OrganizationProfile.get().name_en)
    assert not AuditEvent.objects.filter(action="pages.organization.update").exists()


def test_a_bad_value_is_refused_and_nothing_is_kept(lead: User) -> None:
    with pytest.raises(ValidationError):
        update_organization(actor=lead, name_en="Acme", advisory_prefix="VT-SA")
    assert OrganizationProfile.get().name_en != "Acme"
    assert not AuditEvent.objects.exists()


def test_contact_hours_and_report_language_are_profile_settings(lead: User) -> None:
    update_organization(
        actor=lead, contact_hours_en="Mon–Fri 9–18", contact_hours_zh="周一至周五", report_language="en"
    )
    profile = OrganizationProfile.get()
    assert (profile.contact_hours, profile.report_language_name) == ("Mon–Fri 9–18", "English")
    with translation.override("zh-hans"):
        assert (profile.contact_hours, profile.report_language_name) == ("周一至周五", "英文")
    event = AuditEvent.objects.get(action="pages.organization.update")
    assert event.data == {"fields": ["contact_hours_en", "contact_hours_zh", "report_language"]}


def test_an_unknown_report_language_is_refused(lead: User) -> None:
    with pytest.raises(ValidationError, match="not a valid choice"):
        update_organization(actor=lead, report_language="klingon")
    assert OrganizationProfile.get().report_language == ""
    assert OrganizationProfile.get().report_language_name == ""


def test_an_unknown_field_is_a_programming_error(lead: User) -> None:
    with pytest.raises(TypeError, match="updated_at"):
        update_organization(actor=lead, updated_at=None)


def test_the_published_key_is_audited_by_fingerprint(lead: User) -> None:
    cert = pysequoia.Tsk.generate("PSIRT <psirt@acme.example>").extract_certificate()
    update_organization(actor=lead, pgp_public_key=str(cert))
    event = AuditEvent.objects.get(action="pages.organization.update")
    assert event.data["pgp_fingerprint"] == str(cert.fingerprint).upper()


def test_a_profile_change_moves_the_public_pages_generation(lead: User) -> None:
    before = generation.current()
    update_organization(actor=lead, footer_en="Licence 2")
    assert generation.current() != before


def test_the_admin_keeps_exactly_one_profile(lead: User) -> None:
    OrganizationProfile.get()
    request = RequestFactory().get("/admin/")
    request.user = User.objects.create_superuser(email="root@acme.example", password="x" * 20)
    model_admin = site.get_model_admin(OrganizationProfile)
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_delete_permission(request, OrganizationProfile.get())


def test_leads_calendar_days_move_acknowledgment_deadlines(lead: User) -> None:
    # Friday 6 March 2026, 10:00 in Shanghai: 5 business days → Friday 13 March, unless Monday 9 is a day off.
    received = dt.datetime(2026, 3, 6, 10, 0, tzinfo=SHANGHAI)
    assert acknowledgment_due(received) == dt.datetime(2026, 3, 13, 10, 0, tzinfo=SHANGHAI)
    set_calendar_day(date=dt.date(2026, 3, 9), kind="holiday", note="Company retreat", actor=lead)
    assert acknowledgment_due(received) == dt.datetime(2026, 3, 16, 10, 0, tzinfo=SHANGHAI)
    set_calendar_day(date=dt.date(2026, 3, 7), kind="workday", actor=lead)
    assert acknowledgment_due(received) == dt.datetime(2026, 3, 13, 10, 0, tzinfo=SHANGHAI)
    remove_calendar_day(date=dt.date(2026, 3, 9), actor=lead)
    remove_calendar_day(date=dt.date(2026, 3, 7), actor=lead)
    assert acknowledgment_due(received) == dt.datetime(2026, 3, 13, 10, 0, tzinfo=SHANGHAI)


def test_only_leads_edit_the_calendar(handler: User) -> None:
    with pytest.raises(NotAllowed):
        set_calendar_day(date=dt.date(2026, 3, 9), kind="holiday", actor=handler)

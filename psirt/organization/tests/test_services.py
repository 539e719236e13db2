"""Changing the organization profile: validated, audited with the changed fields, one row for ever."""

from __future__ import annotations

import pysequoia
import pytest
from django.contrib.admin.sites import site
from django.core.exceptions import ValidationError
from django.test import RequestFactory

from psirt.accounts.models import User
from psirt.audit.models import AuditEvent
from psirt.organization.models import OrganizationProfile
from psirt.organization.services import update_organization
from psirt.pages import generation

pytestmark = pytest.mark.django_db


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

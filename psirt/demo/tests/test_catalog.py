"""`psirt demo`: realistic, idempotent, and never loaded on a production site by accident."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.test import override_settings

from psirt.accounts.models import Role, User
from psirt.audit.models import AuditEvent
from psirt.catalog.models import FirmwareRelease, Product, ProductLine
from psirt.organization.models import OrganizationProfile

pytestmark = pytest.mark.django_db


def _counts():
    return (
        ProductLine.objects.count(),
        Product.objects.count(),
        FirmwareRelease.objects.count(),
        User.objects.count(),
        AuditEvent.objects.count(),
    )


def _run(**kwargs):
    out = io.StringIO()
    call_command("demo", force=True, stdout=out, stderr=out, **kwargs)
    return out.getvalue()


def test_demo_loads_a_realistic_vendor_and_is_idempotent(settings):
    _run()
    first = _counts()
    _run()
    assert _counts() == first  # nothing new: no duplicates, no audit events

    org = OrganizationProfile.get()
    assert (org.name_en, org.advisory_prefix) == ("VisionTek", "VT")
    assert org.name_zh and "ICP" in org.footer_zh
    assert ProductLine.objects.count() == 2
    assert Product.objects.count() >= 8
    for product in Product.objects.all():
        releases = product.releases.all()
        assert 6 <= len(releases) <= 15, product.slug
        assert all(r.release_date and r.notes_en and r.notes_zh for r in releases)
        assert all(" build " in r.version for r in releases)
    assert set(FirmwareRelease.objects.exclude(variant="").values_list("variant", flat=True)) == {"EU", "CN"}


def test_demo_accounts_sign_in_with_the_configured_password(settings):
    settings.PSIRT_DEMO_PASSWORD = "another-Demo-pass-77"
    _run()
    roles = dict(User.objects.filter(email__endswith="@demo.test").values_list("email", "role"))
    assert roles == {
        "lead@demo.test": Role.LEAD,
        "handler1@demo.test": Role.HANDLER,
        "handler2@demo.test": Role.HANDLER,
        "engineer@demo.test": Role.ENGINEER,
    }
    assert authenticate(email="handler1@demo.test", password="another-Demo-pass-77") is not None
    engineer = User.objects.get(email="engineer@demo.test")
    assert list(engineer.product_lines.values_list("slug", flat=True)) == ["ip-cameras-recorders"]
    from allauth.mfa.models import Authenticator

    assert not Authenticator.objects.filter(user__email__endswith="@demo.test").exists()


def test_demo_keeps_an_organization_profile_someone_set_up():
    from psirt.organization.services import update_organization

    update_organization(actor=None, name_en="Real Vendor", advisory_prefix="RV")
    _run()
    assert OrganizationProfile.get().name_en == "Real Vendor"


def test_demo_keeps_catalog_edits():
    _run()
    Product.objects.filter(slug="vt-t6").update(name="Renamed by a lead")
    # The oldest release: no demo advisory or case names it as a bound of a range.
    deleted = FirmwareRelease.objects.filter(product__slug="vt-t6").order_by("release_date").first()
    assert deleted is not None
    deleted.delete()
    before = FirmwareRelease.objects.count()
    _run()
    assert Product.objects.get(slug="vt-t6").name == "Renamed by a lead"
    assert FirmwareRelease.objects.count() == before  # a deleted demo release stays deleted


@override_settings(PSIRT_DEV=False)
def test_demo_refuses_outside_dev_mode_without_force():
    err = io.StringIO()
    call_command("demo", stdout=io.StringIO(), stderr=err)
    assert "skipped" in err.getvalue()
    assert not User.objects.filter(email__endswith="@demo.test").exists()
    assert not Product.objects.exists()


def test_demo_pages_render(client):
    _run()
    from django.urls import reverse

    assert client.get(reverse("catalog:updates")).status_code == 200
    response = client.get(reverse("catalog:product", args=["vt-ipc-x5"]))
    assert response.status_code == 200
    assert "Variant EU" in response.content.decode()
    home = client.get(reverse("pages:home")).content.decode()
    assert "VisionTek" in home and "闽ICP备2099000001号-1" in home

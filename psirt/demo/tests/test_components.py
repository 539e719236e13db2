"""`psirt demo`: the components part shows a public release page with its components and SBOM."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.test import Client

from psirt.catalog.models import ProductLine
from psirt.components.models import SbomDocument

pytestmark = pytest.mark.django_db


def test_one_line_publishes_its_sboms_and_the_release_page_lists_components() -> None:
    call_command("demo", force=True, stdout=io.StringIO(), stderr=io.StringIO())
    public_lines = ProductLine.objects.filter(sboms_public=True)
    assert public_lines.count() == 1
    document = SbomDocument.objects.filter(release__product__line__in=public_lines, release__is_public=True).first()
    assert document is not None
    release = document.release
    for lang in ("en", "zh-hans"):
        page = Client().get(f"/{lang}/updates/{release.product.slug}/releases/{release.public_id}/")
        assert page.status_code == 200
        html = page.content.decode()
        assert "pkg:generic/openssl@" in html and f"/releases/{release.public_id}/sbom/" in html
        assert "/vex/CVE-2024-5535/openvex.json" in html
    download = Client().get(f"/en/updates/{release.product.slug}/releases/{release.public_id}/sbom/")
    assert download.status_code == 200 and download["Content-Type"] == "application/vnd.cyclonedx+json"

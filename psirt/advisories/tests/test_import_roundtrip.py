"""Round trip: psirt's own CSAF documents, imported into an empty database, render again as the
same documents — the import loses nothing psirt itself writes.

Nothing is normalised before comparing: psirt writes no generator date or version (formats/csaf.py), and every
other value comes from rows the import rebuilds."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from psirt.accounts.models import User
from psirt.advisories import services
from psirt.advisories.csaf import documents
from psirt.advisories.csaf.importer import import_csaf
from psirt.advisories.models import PUBLIC_STATES, Advisory
from psirt.advisories.services.case_facts import create_demo_case
from psirt.catalog.models import FirmwareRelease, Product
from psirt.demo import catalog as catalog_demo
from psirt.demo.advisories import load_demo_advisories
from psirt.formats.csaf import render_csaf, render_csaf_translation
from psirt.organization.models import OrganizationProfile

from .conftest import publish, revise, state_on_cases

Documents = dict[str, tuple[dict[str, Any], dict[str, Any] | None]]


@pytest.fixture(autouse=True)
def _own_var_dir(settings: Any, tmp_path: Path) -> None:
    """Publications and imports write the CSAF provider tree after they commit: into this test's folder."""
    settings.PSIRT_VAR_DIR = tmp_path / "var"


def _render_all() -> Documents:
    """Every public advisory's documents rendered from its rows (not an imported advisory's stored original, which
    would make the round trip say nothing)."""
    out = {}
    for advisory in documents.advisory_queryset().order_by("advisory_id"):
        model = documents.to_model(advisory)
        out[advisory.advisory_id] = (render_csaf(model), render_csaf_translation(model))
    return out


def _round_trip() -> tuple[Documents, Documents]:
    """Render, empty the database (keeping the organization profile: the documents' publisher), import the English
    documents and then their translations, render again."""
    before = _render_all()
    profile = OrganizationProfile.get()
    kept = {f.name: getattr(profile, f.name) for f in OrganizationProfile._meta.concrete_fields if f.name != "id"}
    call_command("flush", interactive=False, verbosity=0)
    OrganizationProfile.objects.update_or_create(id=1, defaults=kept)
    assert Advisory.objects.count() == Product.objects.count() == 0
    for tracking_id, (en, _zh) in before.items():
        result = import_csaf(document=en, source=tracking_id)
        assert result.outcome == "imported", result.line
    for tracking_id, (_en, zh) in before.items():
        if zh is not None:
            result = import_csaf(document=zh, source=f"{tracking_id} (zh-Hans)")
            assert result.outcome == "updated", result.line
    return before, _render_all()


def _richer_advisory() -> None:
    """One more advisory with what the demo ones lack: a region variant next to the standard build, an unfixed
    product, two CVEs and a CNNVD ID, every text in both languages, several credits and references, a revision."""
    lead = next(u for u in User.objects.order_by("id") if u.is_lead)
    camera = Product.objects.get(slug="vt-ipc-x5")
    recorder = Product.objects.get(slug="vt-nvr-s8")
    case = create_demo_case(
        product=camera,
        title="Round-trip case",
        disclosure_date=timezone.localdate() - dt.timedelta(days=1),
        exploitation="poc",
        actor=lead,
    )
    advisory = services.create_advisory(cases=[case], actor=lead)

    def release(product: Product, variant: str, back: int) -> FirmwareRelease:
        return list(product.releases.filter(variant=variant).order_by("-position"))[back]

    advisory = services.update_advisory(
        advisory=advisory,
        actor=lead,
        changes={
            "title_en": "Authentication bypass in the RTSP service",
            "title_zh": "RTSP 服务身份验证绕过",
            "summary_en": "A crafted RTSP request reads the video stream without a password.",
            "summary_zh": "特制的 RTSP 请求无需密码即可读取视频流。",
            "description_en": "The RTSP service accepts a session token before checking it.",
            "impact_en": "Anyone on the network can watch the cameras.",
            "impact_zh": "网络中的任何人都能观看摄像机画面。",
            "workarounds_en": "Turn RTSP off, or allow it from the recorder's address only.",
            "cvss31_vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N",
            "cvss40_vector": "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:N/VA:N/SC:N/SI:N/SA:N",
            "cwe_id": 287,
            "exploitation": "poc",
            "identifiers": "CVE-2026-20101\nCVE-2026-20102\nCNNVD-202601-1234",
            "reference_urls": "https://www.example.org/research/rtsp\nhttps://www.cert.example/notes/42",
            "credits_en": "Zhang San\nExample Research Team",
        },
        affected=[
            services.AffectedInput(product=camera, introduced=release(camera, "", 5), fixed=release(camera, "", 1)),
            services.AffectedInput(
                product=camera, variant="EU", introduced=release(camera, "EU", 3), fixed=release(camera, "EU", 0)
            ),
            services.AffectedInput(product=recorder, introduced=release(recorder, "", 2)),
        ],
    )
    advisory = services.submit_for_review(advisory=state_on_cases(advisory), actor=lead)
    advisory = services.approve_advisory(advisory=advisory, actor=lead)
    advisory = services.publish_advisory(advisory=advisory, actor=lead)
    revise(
        advisory=advisory,
        actor=lead,
        changes={"description_zh": "RTSP 服务在检查会话令牌之前就接受了它。"},
        revision_summary_en="Chinese description added.",
        revision_summary_zh="增加中文描述。",
    )


def _diff(before: Any, after: Any, path: str = "") -> list[str]:
    """Where two JSON values differ, as JSON paths (for a readable failure)."""
    if isinstance(before, dict) and isinstance(after, dict):
        keys = sorted(set(before) | set(after))
        return [d for k in keys for d in _diff(before.get(k), after.get(k), f"{path}/{k}")]
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        return [d for i, (b, a) in enumerate(zip(before, after, strict=True)) for d in _diff(b, a, f"{path}/{i}")]
    return [] if before == after else [f"{path}: {json.dumps(before)[:200]} != {json.dumps(after)[:200]}"]


@pytest.mark.django_db(transaction=True)
def test_demo_advisories_round_trip_through_import(settings: Any) -> None:
    settings.PSIRT_DEMO_PASSWORD = "demo-password-Quokka-42"
    lines: list[str] = []
    catalog_demo.load_organization(lines.append)
    catalog_demo.load_catalog(lines.append)
    catalog_demo.load_accounts(lines.append)
    load_demo_advisories(lines.append)
    _richer_advisory()
    rendered = _render_all()
    assert len(rendered) == Advisory.objects.filter(state__in=PUBLIC_STATES).count() >= 5
    # What is rendered here is what psirt serves for its own advisories.
    assert all(documents.csaf_documents(a) == rendered[a.advisory_id] for a in documents.advisory_queryset())
    assert any(zh is not None for _en, zh in rendered.values())
    # The shapes worth a round trip are there: firmware on hardware revisions, region variants, several CVEs.
    texts = [json.dumps(en) for en, _zh in rendered.values()]
    assert any('"installed_on"' in t for t in texts) and any('"specification"' in t for t in texts)
    assert any(len(en["vulnerabilities"]) > 1 for en, _zh in rendered.values())

    before, after = _round_trip()
    assert sorted(after) == sorted(before)
    for tracking_id in before:
        assert _diff(before[tracking_id][0], after[tracking_id][0]) == [], tracking_id
        assert _diff(before[tracking_id][1], after[tracking_id][1]) == [], f"{tracking_id} (zh-Hans)"


@pytest.mark.django_db(transaction=True)
def test_release_ids_in_product_ids_survive_the_round_trip(draft: Advisory, lead: User) -> None:
    """Two releases whose versions slug alike get the catalog release's UUID in their product IDs; the import gives
    the new releases those UUIDs, so the product IDs consumers know stay the same."""
    FirmwareRelease.objects.create(product=draft.affected.get().product, version="v5.5.0", position=25)
    publish(draft, lead)
    before, after = _round_trip()
    ((en, _zh),) = before.values()
    assert re.search(r'"CSAFPID-cam-x5-[0-9a-f]{8}-', json.dumps(en))
    assert _diff(before, after) == []

"""Demo advisories: created through the services, in every state, and idempotent."""

from __future__ import annotations

from django.test import Client

from psirt.advisories.models import Advisory
from psirt.advisories.tests.test_search_index import search_index_differences
from psirt.demo import catalog as catalog_demo
from psirt.demo.advisories import ADVISORIES, load_demo_advisories


def test_demo_advisories_load_once_and_show(db: None, anonymous: Client, settings) -> None:  # type: ignore[no-untyped-def]
    settings.PSIRT_DEMO_PASSWORD = "demo-password-Quokka-42"
    lines: list[str] = []
    catalog_demo.load_organization(lines.append)
    catalog_demo.load_catalog(lines.append)
    catalog_demo.load_accounts(lines.append)
    load_demo_advisories(lines.append)
    assert Advisory.objects.count() == len(ADVISORIES)
    states = set(Advisory.objects.values_list("state", flat=True))
    assert states == {"published", "withdrawn", "draft"}
    load_demo_advisories(lines.append)
    assert Advisory.objects.count() == len(ADVISORIES)
    assert all(a.advisory_id.startswith("VT-SA-") for a in Advisory.objects.all())
    # Their cases carry the advisory's scores, so the desk shows a severity for each.
    severities = [c.severity for a in Advisory.objects.all() for c in a.cases.all()]
    assert len(severities) >= len(ADVISORIES) and all(severities)
    html = anonymous.get("/en/advisories/").content.decode()
    assert "Buffer overflow in the web interface of IPC-X5 cameras" in html
    assert "Path traversal" not in html  # the draft
    zh = anonymous.get("/zh-hans/advisories/").content.decode()
    assert "IPC-X5 摄像机网页界面缓冲区溢出" in zh
    first = Advisory.objects.get(title_en__startswith="Buffer overflow")
    assert first.revisions.count() == 3
    assert anonymous.get(first.get_absolute_url()).status_code == 200
    # The search finds them through its index (SQLite), which the demo's writes kept current.
    assert not search_index_differences()
    assert "Buffer overflow in the web interface" in anonymous.get("/en/advisories/?q=IPC-X5").content.decode()


def test_without_a_lead_it_does_nothing(db: None) -> None:
    lines: list[str] = []
    load_demo_advisories(lines.append)
    assert Advisory.objects.count() == 0
    assert "skipped" in lines[0]

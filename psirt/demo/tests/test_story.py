"""The demo tells a coherent story: cases over the last months with deadlines passed and near, advisories whose
facts are exactly their cases' facts, a withdrawn advisory that says why, release notes naming the fixes, and
an audit chain that still verifies — for both reference vendors."""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from conftest import client_for
from psirt.accounts.models import User
from psirt.advisories.models import Advisory
from psirt.audit.services import verify_chain
from psirt.cases.models import Case, StateChange
from psirt.cases.queries import due_soon_q, overdue_q
from psirt.cases.services.deadlines import remediation_days_for
from psirt.catalog.models import FirmwareRelease, Product
from psirt.organization.models import OrganizationProfile
from psirt.organization.queries import acknowledgment_due

pytestmark = pytest.mark.django_db

IDS = ("cve", "cnvd", "cnnvd", "euvd")


def _load(vendor: str = "visiontek") -> str:
    out = io.StringIO()
    call_command("demo", force=True, vendor=vendor, stdout=out, stderr=out)
    return out.getvalue()


def differences(advisory: Advisory) -> list[str]:
    """What the advisory shows that one of its cases does not carry (read from the case's own rows)."""
    found: list[str] = []
    rows = {(r.product_id, r.variant, r.introduced_id, r.fixed_id) for r in advisory.affected.all()}
    for case in advisory.cases.all():
        pairs = {
            "exploitation": (advisory.exploitation, case.exploitation),
            "cvss31": (advisory.cvss31_vector, case.cvss31_vector),
            "cvss40": (advisory.cvss40_vector, case.cvss40_vector),
            "cwe": (advisory.cwe_id, case.cwe_id),
            "identifiers": (
                set(advisory.identifiers.split()),
                {r.value for r in case.references.all() if r.kind in IDS},
            ),
            "urls": (set(advisory.reference_urls.split()), {r.value for r in case.references.filter(kind="url")}),
            "ranges": (rows, set(case.affected.values_list("product_id", "variant", "introduced_id", "fixed_id"))),
            "workarounds": (
                (advisory.workarounds_en, advisory.workarounds_zh),
                (
                    "\n\n".join(m.text_en for m in case.mitigations.all()),
                    "\n\n".join(m.text_zh for m in case.mitigations.all()),
                ),
            ),
        }
        found += [f"{case.key}: {name}" for name, (shown, carried) in pairs.items() if shown != carried]
        if case.exploitation == "active" and case.exploitation_aware_at is None:
            found.append(f"{case.key}: exploited without an awareness time")
    return found


def test_every_demo_advisory_shows_exactly_what_its_cases_carry() -> None:
    _load()
    advisories = list(Advisory.objects.all())
    assert len(advisories) == 6
    for advisory in advisories:
        assert advisory.cases.exists(), advisory.advisory_id
        assert differences(advisory) == [], advisory.advisory_id
    exploited = Advisory.objects.get(exploitation="active")
    case = exploited.cases.get()
    assert case.exploitation == "active" and case.cwe_id == exploited.cwe_id == 78
    assert set(case.references.values_list("value", flat=True)) >= {"CVE-2026-20004"}
    assert exploited.published_at is not None and case.exploitation_aware_at is not None
    assert case.received_at < case.exploitation_aware_at < exploited.published_at


def test_the_comparison_finds_a_case_that_says_something_else() -> None:
    _load()
    advisory = Advisory.objects.get(exploitation="active")
    case = advisory.cases.get()
    Case.objects.filter(pk=case.pk).update(cwe_id=79, exploitation="none", exploitation_aware_at=None)
    case.references.filter(kind="cve").delete()
    assert sorted(differences(advisory)) == sorted(
        [f"{case.key}: cwe", f"{case.key}: exploitation", f"{case.key}: identifiers"]
    )


def test_cases_spread_over_months_with_deadlines_passed_and_near() -> None:
    _load()
    now = timezone.now()
    cases = list(Case.objects.all())
    received = sorted(c.received_at for c in cases)
    assert received[-1] - received[0] > dt.timedelta(days=120)
    assert len({r.date().replace(day=1) for r in received}) >= 5  # at least five different months
    for case in cases:
        stamps = [t for t in (case.received_at, case.acknowledged_at, case.confirmed_at, case.closed_at) if t]
        assert stamps == sorted(stamps) and stamps[-1] <= now, case.key
        assert case.created_at == case.received_at
        assert case.ack_due_at == acknowledgment_due(case.received_at), case.key
        if case.confirmed_at:
            due = case.confirmed_at + dt.timedelta(days=remediation_days_for(case.severity))
            assert case.remediation_due_at == due, case.key
        steps = list(StateChange.objects.filter(case=case).values_list("at", flat=True))
        assert steps == sorted(steps) and steps[-1] <= now, case.key
        assert dt.timedelta(0) <= steps[0] - case.received_at < dt.timedelta(minutes=1), case.key
        for report in case.case_reports.select_related("report"):
            assert report.report.created_at == case.received_at
    overdue = Case.objects.filter(overdue_q(now))
    soon = Case.objects.filter(due_soon_q(now))  # due soon and not overdue
    assert overdue.filter(state="new").exists()  # a report not acknowledged in time
    assert overdue.filter(state__in=("confirmed", "remediation")).exists()  # a fix overdue
    assert soon.filter(state__in=("confirmed", "remediation")).exists()  # a fix due within two weeks
    assert soon.filter(state="awaiting_disclosure").exists()  # a disclosure within a week
    # The dashboard shows both lists to the demo lead (enrolled in TOTP: outside dev mode the desk wants it).
    lead = User.objects.get(email="lead@demo.test")
    TOTP.activate(lead, generate_totp_secret())
    html = client_for(lead).get("/en/desk/cases/dashboard/").content.decode()
    for case in (*overdue, *soon):
        assert case.key in html


def test_the_withdrawn_advisory_says_why_and_its_fix_claims_nothing(anonymous) -> None:  # type: ignore[no-untyped-def]
    _load()
    withdrawn = Advisory.objects.get(state="withdrawn")
    assert "not affected" in withdrawn.withdrawn_reason
    assert withdrawn.withdrawn_at is not None
    assert not withdrawn.summary_en.lower().startswith("withdrawn")  # the summary tells what was reported
    summaries = list(withdrawn.revisions.order_by("pk").values_list("summary_en", flat=True))
    assert summaries[-1].startswith("Withdrawn: ") and "not affected" in summaries[-2]
    for lang in ("en", "zh-hans"):
        page = anonymous.get(f"/{lang}{withdrawn.get_absolute_url()[3:]}").content.decode()
        assert withdrawn.withdrawn_reason in page
    assert not FirmwareRelease.objects.filter(notes_en__contains=withdrawn.advisory_id).exists()


def test_release_notes_read_like_release_notes() -> None:
    _load()
    for product in Product.objects.all():
        for variant in set(product.releases.values_list("variant", flat=True)):
            releases = list(product.releases.filter(variant=variant).order_by("position"))
            dates = [r.release_date for r in releases if r.release_date]
            assert len(dates) == len(releases) and dates == sorted(dates) and len(set(dates)) == len(dates), (
                product.slug,
                variant,
            )
            for release in releases:
                match = re.fullmatch(r"V\d+\.\d+\.\d+ build (\d{6})", release.version)
                assert match and match.group(1) == f"{release.release_date:%y%m%d}", release.version
                for notes in (release.notes_en, release.notes_zh):
                    assert notes and all(line.startswith("- ") for line in notes.splitlines()), release.version
    for advisory in Advisory.objects.filter(state="published"):
        for row in advisory.affected.exclude(fixed=None).select_related("fixed"):
            fixed = row.fixed
            assert advisory.published_at is not None and fixed is not None and fixed.release_date
            assert fixed.release_date < timezone.localdate(advisory.published_at)
            assert advisory.advisory_id in fixed.notes_en and advisory.advisory_id in fixed.notes_zh


def test_titles_and_texts_are_each_advisorys_own() -> None:
    _load()
    advisories = list(Advisory.objects.all())
    for field in ("description_en", "description_zh", "summary_en", "title_en", "title_zh"):
        values = [getattr(a, field) for a in advisories]
        assert all(values) and len(set(values)) == len(values), field
    for advisory in advisories:
        product = advisory.affected.get().product
        model = product.name.split()[1].split("-")[0] if product.name.startswith("VT-IPC") else None
        # The title names the product the advisory is about.
        assert (model or product.slug.split("-")[-1]).upper() in advisory.title_en.upper(), advisory.title_en


@pytest.mark.parametrize("vendor", ["visiontek", "beca"])
def test_each_vendor_loads_once_and_the_audit_chain_verifies(vendor: str) -> None:
    _load(vendor)
    counts = (Product.objects.count(), FirmwareRelease.objects.count(), Case.objects.count())
    assert counts[0] >= 4 and counts[1] >= 20
    _load(vendor)
    assert (Product.objects.count(), FirmwareRelease.objects.count(), Case.objects.count()) == counts
    report = verify_chain()
    assert report.ok, report.problem
    out = io.StringIO()
    call_command("audit", "verify", stdout=out)
    assert out.getvalue().startswith("OK")
    assert OrganizationProfile.get().name_en == {"visiontek": "VisionTek", "beca": "BECA"}[vendor]


def test_the_other_vendor_is_refused_on_a_loaded_database() -> None:
    _load("visiontek")
    counts = (Product.objects.count(), FirmwareRelease.objects.count())
    with pytest.raises(CommandError, match="holds the visiontek demo; load beca into a database of its own"):
        _load("beca")
    assert (Product.objects.count(), FirmwareRelease.objects.count()) == counts  # no BECA line mixed in


def test_the_readme_says_what_make_run_loads() -> None:
    _load()
    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text(encoding="utf-8")
    text = " ".join(readme.split())
    said = {
        "products": int(re.search(r"(\d+) products in two product lines", text).group(1)),  # type: ignore[union-attr]
        "releases": int(re.search(r"about (\d+) firmware releases", text).group(1)),  # type: ignore[union-attr]
        "cases": int(re.search(r"(\d+) cases received", text).group(1)),  # type: ignore[union-attr]
        "advisories": int(re.search(r"(\d+) advisories written from", text).group(1)),  # type: ignore[union-attr]
    }
    assert said["products"] == Product.objects.count()
    assert abs(said["releases"] - FirmwareRelease.objects.count()) <= 5
    assert said["cases"] == Case.objects.count()
    assert said["advisories"] == Advisory.objects.count()
    oldest = Case.objects.order_by("received_at").values_list("received_at", flat=True).first()
    months = {"six": 6, "nine": 9, "twelve": 12}[re.search(r"over the last (\w+) months", text).group(1)]  # type: ignore[union-attr]
    assert oldest is not None and timezone.now() - oldest <= dt.timedelta(days=31 * months)

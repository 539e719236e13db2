"""Fixtures of the regulatory tests: an actively exploited case with products, a fix and a mitigation, its
handler and a lead (the personas come from the project's conftest)."""

from __future__ import annotations

import datetime as dt

import pytest

from psirt.accounts.models import User
from psirt.cases.models import Case
from psirt.cases.services import cases as case_services
from psirt.cases.services import remediation
from psirt.organization.models import OrganizationProfile
from psirt.regulatory.models import Obligation
from psirt.regulatory.services import ensure_exploited_obligations
from psirt.tests.factories import make_line, make_product, make_release, make_report


@pytest.fixture
def profile(db: None) -> OrganizationProfile:
    profile = OrganizationProfile.get()
    profile.name_en = "Example Devices"
    profile.eu_member_state = "DE"
    profile.save()
    return profile


@pytest.fixture
def case(lead: User, handler: User, profile: OrganizationProfile) -> Case:
    line = make_line(name_en="IP cameras", position=1, eu_member_states="DE,FR,NL")
    product = make_product(line)
    r1 = make_release(product, "1.0", 1)
    r2 = make_release(product, "1.1", 2, release_date=dt.date(2026, 11, 20))
    report = make_report(product)
    case = case_services.open_case(report=report, actor=lead, title="RTSP overflow", assignees=[handler])
    case_services.add_reference(case=case, value="CVE-2026-1111", actor=lead)
    remediation.set_affected_range(case=case, product=product, introduced=r1, fixed=r2, actor=lead)
    remediation.add_mitigation(case=case, text_en="Disable RTSP on the camera", actor=lead)
    return case


@pytest.fixture
def exploited(case: Case, lead: User) -> Case:
    aware = dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)
    return case_services.set_exploitation(case=case, status="active", actor=lead, aware_at=aware)


@pytest.fixture
def obligation(exploited: Case) -> Obligation:
    ensure_exploited_obligations()
    return Obligation.objects.get(case=exploited, track="vulnerability")

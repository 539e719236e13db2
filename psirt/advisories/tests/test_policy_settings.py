"""The publication policy as the vendor's configuration: every combination of settings against every kind of
case, versions that are never edited, and the advisory that keeps the version it was published under."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone, translation

from conftest import client_for
from psirt.accounts.models import User
from psirt.advisories import services
from psirt.advisories.exceptions import (
    EmbargoNotReached,
    ExpediteNeedsJustification,
    ExpediteNotWarranted,
    InvalidInput,
    NoFixOrMitigation,
    NotAllowed,
    PublicationRefused,
    SeverityBelowPolicy,
)
from psirt.advisories.models import (
    Advisory,
    AdvisoryState,
    PublicationPolicy,
    RequiredRemedy,
)
from psirt.advisories.services import policy as gate
from psirt.advisories.services.case_facts import CaseFacts
from psirt.advisories.tests.conftest import approve, make_case
from psirt.audit.models import AuditEvent
from psirt.catalog.models import FirmwareRelease, Product
from psirt.lib.severity import MinimumSeverity

TODAY = dt.date(2026, 6, 1)
LOW_VECTOR = "CVSS:3.1/AV:N/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N"
SEVERITIES = ["", "None", "Low", "Medium", "High", "Critical"]
# FIRST's order, written out here so the oracle does not borrow the code it checks.
ORACLE_RANK = {"": -1, "None": 0, "Low": 1, "Medium": 2, "High": 3, "Critical": 4}


def expected_refusal(settings: dict[str, Any], case: dict[str, Any]) -> type[PublicationRefused] | None:
    """The policy in plain Python, written independently of the gate: what it must answer."""
    if case["expedite"]:
        standard = (settings["expedite_when_exploited"] and case["exploited"]) or (
            settings["expedite_when_public_concern"] and case["concern"]
        )
        if not standard and not settings["expedite_other_triggers"]:
            return ExpediteNotWarranted
        if settings["expedite_requires_fix"] and not case["fix"]:
            return NoFixOrMitigation
        return None
    minimum = settings["minimum_severity"]
    if minimum != "None" and ORACLE_RANK[case["severity"]] < ORACLE_RANK[minimum]:
        return SeverityBelowPolicy
    has = {"either": case["fix"] or case["mitigation"], "fix": case["fix"], "mitigation": case["mitigation"]}
    has["both"] = case["fix"] and case["mitigation"]
    if not has[settings["required_remedy"]]:
        return NoFixOrMitigation
    if settings["require_disclosure_date"] and case["date"] > TODAY:
        return EmbargoNotReached
    return None


SETTING_VALUES: dict[str, list[Any]] = {
    "minimum_severity": list(MinimumSeverity.values),
    "required_remedy": list(RequiredRemedy.values),
    "require_disclosure_date": [True, False],
    "expedite_when_exploited": [True, False],
    "expedite_when_public_concern": [True, False],
    "expedite_other_triggers": ["", "A customer's safety is at risk"],
    "expedite_requires_fix": [True, False],
}
CASE_VALUES: dict[str, list[Any]] = {
    "severity": SEVERITIES,
    "fix": [True, False],
    "mitigation": [True, False],
    "exploited": [True, False],
    "concern": [True, False],
    "date": [TODAY, TODAY + dt.timedelta(days=1)],
    "expedite": [True, False],
}


def combinations(values: dict[str, list[Any]]) -> list[dict[str, Any]]:
    return [dict(zip(values, row, strict=True)) for row in itertools.product(*values.values())]


@pytest.mark.parametrize("minimum", MinimumSeverity.values)
def test_every_setting_against_every_case(minimum: str) -> None:
    settings_rows = [s for s in combinations(SETTING_VALUES) if s["minimum_severity"] == minimum]
    cases = combinations(CASE_VALUES)
    advisories = {
        severity: Advisory(
            state=AdvisoryState.APPROVED,
            approved_by_id=1,
            expedite_approved_by_id=1,
            expedite_justification="Told now because customers are at risk.",
            severity=severity,
        )
        for severity in SEVERITIES
    }
    facts = [
        CaseFacts(
            key="VT-2026-0001",
            title="",
            state="remediation",
            product_id=None,
            has_fix=case["fix"],
            has_sufficient_mitigation=case["mitigation"],
            actively_exploited=case["exploited"],
            public_concern=case["concern"],
            agreed_disclosure_date=case["date"],
        )
        for case in cases
    ]
    checked = 0
    for settings in settings_rows:
        rules = PublicationPolicy(version=1, **settings)
        for case, case_facts in zip(cases, facts, strict=True):
            expected = expected_refusal(settings, case)
            try:
                gate.check_publication(
                    advisories[case["severity"]], [case_facts], [], expedite=case["expedite"], today=TODAY, policy=rules
                )
            except PublicationRefused as exc:
                assert type(exc) is expected, (settings, case, exc.message)
                assert exc.message
            else:
                assert expected is None, (settings, case)
            checked += 1
    assert checked == len(settings_rows) * len(cases)


@pytest.mark.parametrize(
    "minimum,severity,message",
    [
        ("Critical", "High", "This policy publishes only CRITICAL advisories; this one is HIGH."),
        ("Critical", "", "This policy publishes only CRITICAL advisories; this one is not rated."),
        ("High", "Medium", "This policy publishes only advisories rated HIGH or higher; this one is MEDIUM."),
    ],
)
def test_a_severity_refusal_names_the_vendors_rule(minimum: str, severity: str, message: str) -> None:
    advisory = Advisory(state=AdvisoryState.APPROVED, approved_by_id=1, severity=severity)
    facts = CaseFacts("VT-2026-0001", "", "remediation", None, True, True, False, False, TODAY)
    with pytest.raises(SeverityBelowPolicy) as info:
        gate.check_publication(
            advisory, [facts], [], expedite=False, today=TODAY, policy=PublicationPolicy(minimum_severity=minimum)
        )
    assert info.value.message == message


@pytest.mark.parametrize(
    "remedy,fix,mitigation,words",
    [
        ("fix", False, True, "only when a fix exists"),
        ("mitigation", True, False, "only when a sufficient mitigation exists"),
        ("both", False, True, "only when a fix exists"),
        ("both", True, False, "only when a sufficient mitigation exists"),
        ("either", False, False, "no fix and no sufficient mitigation"),
    ],
)
def test_a_remedy_refusal_names_the_vendors_rule(remedy: str, fix: bool, mitigation: bool, words: str) -> None:
    advisory = Advisory(state=AdvisoryState.APPROVED, approved_by_id=1, severity="High")
    facts = CaseFacts("VT-2026-0001", "", "remediation", None, fix, mitigation, False, False, TODAY)
    with pytest.raises(NoFixOrMitigation, match=words):
        gate.check_publication(
            advisory, [facts], [], expedite=False, today=TODAY, policy=PublicationPolicy(required_remedy=remedy)
        )


def test_expedite_refusals_name_the_vendors_triggers() -> None:
    advisory = Advisory(state=AdvisoryState.APPROVED, approved_by_id=1, expedite_approved_by_id=1)
    facts = CaseFacts("VT-2026-0001", "", "remediation", None, False, False, True, False, TODAY)
    closed = PublicationPolicy(expedite_when_exploited=False, expedite_when_public_concern=False)
    with pytest.raises(ExpediteNotWarranted, match="does not allow expedited publication"):
        gate.check_publication(advisory, [facts], [], expedite=True, today=TODAY, policy=closed)
    concern_only = PublicationPolicy(expedite_when_exploited=False)
    with pytest.raises(ExpediteNotWarranted, match="only when the vulnerability is of public concern"):
        gate.check_publication(advisory, [facts], [], expedite=True, today=TODAY, policy=concern_only)
    others = PublicationPolicy(expedite_when_exploited=False, expedite_other_triggers="A regulator asks for it")
    with pytest.raises(ExpediteNeedsJustification, match="A regulator asks for it"):
        gate.check_publication(advisory, [facts], [], expedite=True, today=TODAY, policy=others)
    advisory.expedite_justification = "Exploited in the wild."
    with pytest.raises(NoFixOrMitigation, match="expedites publication only with a fix"):
        gate.check_publication(
            advisory, [facts], [], expedite=True, today=TODAY, policy=PublicationPolicy(expedite_requires_fix=True)
        )


def test_version_1_is_the_original_policy(db: None) -> None:
    first = PublicationPolicy.objects.get(version=1)
    assert services.policy_settings(first) == services.POLICY_SETTINGS
    assert services.current_policy() == first


def test_each_change_writes_a_new_audited_version(db: None, lead: User) -> None:
    v2 = services.set_publication_policy(actor=lead, minimum_severity="Critical", expedite_other_triggers=" x \n\n y ")
    v3 = services.set_publication_policy(actor=lead, required_remedy="both")
    assert (v2.version, v3.version) == (2, 3)
    assert services.current_policy() == v3
    assert (v3.minimum_severity, v3.required_remedy, v3.expedite_other_triggers) == ("Critical", "both", "x\ny")
    first = PublicationPolicy.objects.get(version=1)
    assert services.policy_settings(first) == services.POLICY_SETTINGS
    assert PublicationPolicy.objects.get(version=2).required_remedy == "either"
    events = AuditEvent.objects.filter(action="publication_policy.changed").order_by("seq")
    assert [e.data["version"] for e in events] == [2, 3]
    assert events.last().data["changed"] == ["required_remedy"]  # type: ignore[union-attr]
    assert events.last().actor_id == lead.pk  # type: ignore[union-attr]


def test_only_a_lead_changes_the_policy(db: None, handler: User) -> None:
    with pytest.raises(NotAllowed):
        services.set_publication_policy(actor=handler, minimum_severity="Critical")
    assert services.current_policy().version == 1


@pytest.mark.parametrize(
    "settings,words",
    [
        ({"minimum_severity": "severe"}, "minimum severity must be one of"),
        ({"required_remedy": "patch"}, "must exist must be one of"),
        ({"require_disclosure_date": "yes"}, "yes or no"),
        ({"expedite_other_triggers": 3}, "one reason per line"),
        ({"expedite_other_triggers": "\n".join(str(i) for i in range(11))}, "At most 10"),
        ({"expedite_other_triggers": "x" * 201}, "at most 200 characters"),
        ({"bounty": True}, "Unknown publication policy setting: bounty"),
    ],
)
def test_bad_settings_are_refused_clearly(db: None, lead: User, settings: dict[str, Any], words: str) -> None:
    with pytest.raises(InvalidInput, match=words):
        services.set_publication_policy(actor=lead, **settings)
    assert services.current_policy().version == 1


def test_an_advisory_keeps_the_version_it_was_published_under(
    product: Product, releases: dict[str, FirmwareRelease], lead: User
) -> None:
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    case = make_case(product=product, disclosure_date=yesterday, cvss31_vector=LOW_VECTOR)
    advisory = services.create_advisory(cases=[case], actor=lead)
    services.update_advisory(
        advisory=advisory,
        actor=lead,
        changes={},
        affected=[services.AffectedInput(product=product, fixed=releases["V5.6.0"])],
    )
    published = services.publish_advisory(advisory=approve(advisory, lead), actor=lead)
    assert published.published_under is not None and published.published_under.version == 1
    services.set_publication_policy(actor=lead, minimum_severity="Critical", required_remedy="both")
    published.refresh_from_db()
    assert published.published_under.version == 1
    assert published.published_under.minimum_severity == "None"
    assert published.state == AdvisoryState.PUBLISHED


def test_changing_the_policy_changes_the_gate(
    product: Product, releases: dict[str, FirmwareRelease], lead: User
) -> None:
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    case = make_case(product=product, disclosure_date=yesterday, cvss31_vector=LOW_VECTOR)
    advisory = services.create_advisory(cases=[case], actor=lead)
    services.update_advisory(
        advisory=advisory,
        actor=lead,
        changes={},
        affected=[services.AffectedInput(product=product, fixed=releases["V5.6.0"])],
    )
    advisory = approve(advisory, lead)
    assert advisory.severity == "Low"
    services.check_publication(advisory=advisory)
    services.set_publication_policy(actor=lead, minimum_severity="Critical")
    with pytest.raises(SeverityBelowPolicy, match="only CRITICAL advisories; this one is LOW"):
        services.publish_advisory(advisory=advisory, actor=lead)
    services.set_publication_policy(actor=lead, minimum_severity="None")
    assert services.publish_advisory(advisory=advisory, actor=lead).published_under.version == 3  # type: ignore[union-attr]


def test_the_policy_page_and_the_gate_change_together(
    client: Client, product: Product, releases: dict[str, FirmwareRelease], lead: User
) -> None:
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    case = make_case(product=product, disclosure_date=yesterday, cvss31_vector=LOW_VECTOR)
    advisory = services.create_advisory(cases=[case], actor=lead)
    services.update_advisory(
        advisory=advisory,
        actor=lead,
        changes={"workarounds_en": "Disable remote access.", "mitigation_sufficient": True},
        affected=[services.AffectedInput(product=product)],
    )
    advisory = approve(advisory, lead)
    english = client.get("/en/policy/").content.decode()
    chinese = client.get("/zh-hans/policy/").content.decode()
    assert "Advisories of any severity are published." in english
    assert "a fix or a sufficient mitigation is available" in english
    assert "actively exploited or of public concern, with or without a fix." in english
    assert "任何严重等级的公告均会发布。" in chinese
    services.check_publication(advisory=advisory)

    services.set_publication_policy(
        actor=lead,
        minimum_severity="Critical",
        required_remedy="fix",
        expedite_when_public_concern=False,
        expedite_requires_fix=True,
    )
    english = client.get("/en/policy/").content.decode()
    chinese = client.get("/zh-hans/policy/").content.decode()
    assert "Advisories of any severity are published." not in english
    assert "An advisory is published only when its severity is CRITICAL." in english
    assert "only when a fix is available for every vulnerability it covers." in english
    assert "when the vulnerability is actively exploited; a fix must be available." in english
    assert "仅当公告的严重等级为 CRITICAL 时才会发布。" in chinese
    assert "须已有修复" in chinese
    with translation.override("en"):
        with pytest.raises(SeverityBelowPolicy, match="only CRITICAL advisories; this one is LOW"):
            services.publish_advisory(advisory=advisory, actor=lead)
        services.set_publication_policy(actor=lead, minimum_severity="Low")
        with pytest.raises(NoFixOrMitigation, match="only when a fix exists"):
            services.publish_advisory(advisory=advisory, actor=lead)


POLICY_FORM = {
    "minimum_severity": "Critical",
    "required_remedy": "mitigation",
    "require_disclosure_date": "on",
    "expedite_when_exploited": "on",
    "expedite_other_triggers": "A regulator asks for it",
}


def test_a_lead_edits_the_policy_on_the_desk(lead: User) -> None:
    client = client_for(lead)
    page = client.get("/en/desk/advisories/policy/")
    assert page.status_code == 200
    assert "Advisories of any severity are published." in page.content.decode()
    response = client.post("/en/desk/advisories/policy/", POLICY_FORM)
    assert response.status_code == 302
    current = services.current_policy()
    assert current.version == 2
    assert services.policy_settings(current) == {
        "minimum_severity": "Critical",
        "required_remedy": "mitigation",
        "require_disclosure_date": True,
        "expedite_when_exploited": True,
        "expedite_when_public_concern": False,
        "expedite_other_triggers": "A regulator asks for it",
        "expedite_requires_fix": False,
        "four_eyes": False,  # an unticked box
    }
    client.post("/en/desk/advisories/policy/", {**POLICY_FORM, "four_eyes": "on"})
    assert services.current_policy().four_eyes is True
    html = client.get("/zh-hans/desk/advisories/policy/").content.decode()
    assert "发布策略" in html and "仅当公告的严重等级为 CRITICAL 时才会发布。" in html


def test_the_desk_refuses_a_bad_policy_clearly(lead: User) -> None:
    response = client_for(lead).post("/en/desk/advisories/policy/", {**POLICY_FORM, "minimum_severity": "Severe"})
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    long = "\n".join(f"reason {i}" for i in range(11))
    response = client_for(lead).post("/en/desk/advisories/policy/", {**POLICY_FORM, "expedite_other_triggers": long})
    assert response.status_code == 422
    assert "At most 10 other reasons to expedite." in response.content.decode()
    assert services.current_policy().version == 1


def test_the_policy_desk_does_not_exist_for_handlers(handler: User) -> None:
    client = client_for(handler)
    assert client.get("/en/desk/advisories/policy/").status_code == 404
    assert client.post("/en/desk/advisories/policy/", POLICY_FORM).status_code == 404
    assert services.current_policy().version == 1

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
    AdvisoryError,
    CaseNotPublishable,
    EmbargoNotReached,
    ExpediteNeedsJustification,
    ExpediteNotWarranted,
    ExploitationContradictsScores,
    InvalidInput,
    LeadApprovalRequired,
    NoFixOrMitigation,
    NotAllowed,
    PublicationRefused,
    SeverityBelowPolicy,
    TransitionNotAllowed,
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


# --- each rule's own words and edges, checked on the gate's functions (found unchecked by mutation tests) -------

GATE_TODAY = dt.date(2026, 6, 1)


def facts_of(key: str = "VT-2026-0001", **changes: Any) -> CaseFacts:
    """A case that meets every rule of the default policy; `changes` take one away."""
    values: dict[str, Any] = {
        "key": key,
        "title": "",
        "state": "remediation",
        "product_id": None,
        "has_fix": True,
        "has_sufficient_mitigation": True,
        "actively_exploited": False,
        "public_concern": False,
        "agreed_disclosure_date": GATE_TODAY,
    }
    return CaseFacts(**{**values, **changes})


def approved(**changes: Any) -> Advisory:
    values: dict[str, Any] = {
        "state": AdvisoryState.APPROVED,
        "approved_by_id": 1,
        "expedite_approved_by_id": 1,
        "expedite_justification": "Exploited in the wild.",
        "severity": "High",
    }
    return Advisory(**{**values, **changes})


def refusal(
    advisory: Advisory,
    facts: list[CaseFacts],
    *,
    rows: list[tuple[int, bool]] | None = None,
    expedite: bool = False,
    check_date: bool = True,
    **policy: Any,
) -> tuple[type[AdvisoryError], str] | None:
    """The gate's answer in English: the refusal's class and exact message, or None when it may publish."""
    with translation.override("en"):
        try:
            gate.check_publication(
                advisory,
                facts,
                rows or [],
                expedite=expedite,
                today=GATE_TODAY,
                check_date=check_date,
                policy=PublicationPolicy(**policy),
            )
        except AdvisoryError as exc:
            return type(exc), exc.message
    return None


ACTIVE_E_UNPROVEN = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:U"
PUBLISHED = (TransitionNotAllowed, "This advisory has already been published.")
CONTRADICTION = (
    ExploitationContradictsScores,
    "The advisory says “Actively exploited”, but its CVSS v3.1 vector has Exploit Maturity E:U (E:H would agree): "
    "correct one of them before publishing.",
)


@pytest.mark.parametrize(
    "advisory,facts,options,expected",
    [
        (approved(state=AdvisoryState.PUBLISHED), [facts_of()], {}, PUBLISHED),
        (approved(state=AdvisoryState.WITHDRAWN), [facts_of()], {}, PUBLISHED),
        (
            approved(state=AdvisoryState.PUBLISHED),
            [facts_of()],
            {"expedite": True},
            PUBLISHED,
        ),
        (
            approved(state=AdvisoryState.IN_REVIEW),
            [facts_of()],
            {},
            (LeadApprovalRequired, "A lead must approve this advisory before it is published (it is “In review”)."),
        ),
        (
            approved(approved_by_id=None),
            [facts_of()],
            {},
            (LeadApprovalRequired, "A lead must approve this advisory before it is published (it is “Approved”)."),
        ),
        (
            approved(),
            [],
            {},
            (CaseNotPublishable, "An advisory is published from at least one case; this one has none."),
        ),
        (
            approved(),
            [facts_of(), facts_of("VT-2026-0002", state="rejected")],
            {},
            (
                CaseNotPublishable,
                "Case VT-2026-0002 is not a confirmed vulnerability (state: rejected); remove it from the advisory.",
            ),
        ),
        (
            approved(expedite_approved_by_id=None),
            [facts_of(actively_exploited=True)],
            {"expedite": True},
            (LeadApprovalRequired, "Expedited publication needs a lead's approval; ask a lead to approve it."),
        ),
        (
            approved(),
            [facts_of(actively_exploited=True, state="new")],
            {"expedite": True},
            (
                CaseNotPublishable,
                "Case VT-2026-0001 is not a confirmed vulnerability (state: new); remove it from the advisory.",
            ),
        ),
        (
            approved(expedite_justification=" \n "),
            [facts_of(actively_exploited=True)],
            {"expedite": True},
            (
                ExpediteNeedsJustification,
                "Expedited publication needs a written justification: say why customers must be told now.",
            ),
        ),
        (
            approved(expedite_justification=""),
            [facts_of()],
            {"expedite": True, "expedite_when_public_concern": False, "expedite_other_triggers": "A regulator asks"},
            (
                ExpediteNeedsJustification,
                "This policy expedites publication only when the vulnerability is actively exploited or A regulator "
                "asks; none of the first holds, so the written justification must say which of the others applies.",
            ),
        ),
        (
            approved(),
            [facts_of()],
            {"expedite": True, "expedite_when_exploited": False, "expedite_when_public_concern": False},
            (ExpediteNotWarranted, "This policy does not allow expedited publication."),
        ),
        (
            approved(),
            [facts_of(public_concern=True)],
            {"expedite": True, "expedite_when_public_concern": False},
            (
                ExpediteNotWarranted,
                "This policy expedites publication only when the vulnerability is actively exploited; none holds for "
                "this advisory. Publish normally once the policy's conditions are met.",
            ),
        ),
        (
            approved(),
            [facts_of(actively_exploited=True), facts_of("VT-2026-0002", has_fix=False)],
            {"expedite": True, "expedite_requires_fix": True},
            (
                NoFixOrMitigation,
                "This policy expedites publication only with a fix; case VT-2026-0002 has none: name the release "
                "that fixes each affected product.",
            ),
        ),
        (
            approved(),
            [facts_of(), facts_of("VT-2026-0002", has_fix=False, has_sufficient_mitigation=False)],
            {},
            (
                NoFixOrMitigation,
                "Case VT-2026-0002 has no fix and no sufficient mitigation: name the release that fixes each affected "
                "product, or mark the workarounds as a sufficient mitigation. (Actively exploited or of public "
                "concern? Then ask for expedited publication.)",
            ),
        ),
        (
            approved(),
            [facts_of(), facts_of("VT-2026-0002", has_fix=False)],
            {"required_remedy": "fix"},
            (
                NoFixOrMitigation,
                "This policy publishes only when a fix exists; case VT-2026-0002 has none: name the release that "
                "fixes each affected product.",
            ),
        ),
        (
            approved(),
            [facts_of(), facts_of("VT-2026-0002", has_sufficient_mitigation=False)],
            {"required_remedy": "both"},
            (
                NoFixOrMitigation,
                "This policy publishes only when a sufficient mitigation exists; case VT-2026-0002 has none: mark the "
                "workarounds as a sufficient mitigation.",
            ),
        ),
        (
            approved(),
            [facts_of(), facts_of("VT-2026-0002", agreed_disclosure_date=None)],
            {},
            (
                EmbargoNotReached,
                "Case VT-2026-0002 has no agreed disclosure date: agree one with the reporter first.",
            ),
        ),
        (
            approved(),
            [facts_of(), facts_of("VT-2026-0002", agreed_disclosure_date=GATE_TODAY + dt.timedelta(days=1))],
            {},
            (
                EmbargoNotReached,
                "The agreed disclosure date of case VT-2026-0002 is 2026-06-02 and has not come yet: schedule the "
                "publication for that date instead.",
            ),
        ),
        (
            approved(exploitation="active", cvss31_vector=ACTIVE_E_UNPROVEN),
            [facts_of()],
            {},
            CONTRADICTION,
        ),
        (
            approved(exploitation="active", cvss31_vector=ACTIVE_E_UNPROVEN),
            [facts_of(actively_exploited=True)],
            {"expedite": True},
            CONTRADICTION,
        ),
    ],
)
def test_each_refusal_says_exactly_which_rule_is_not_met(
    advisory: Advisory, facts: list[CaseFacts], options: dict[str, Any], expected: tuple[type[AdvisoryError], str]
) -> None:
    assert refusal(advisory, facts, **options) == expected


def test_each_refusal_is_written_in_the_visitors_language() -> None:
    with translation.override("zh-hans"), pytest.raises(EmbargoNotReached) as info:
        gate.check_publication(
            approved(),
            [facts_of(agreed_disclosure_date=None)],
            [],
            expedite=False,
            today=GATE_TODAY,
            policy=PublicationPolicy(),
        )
    assert info.value.message == "工单 VT-2026-0001 尚无约定的披露日期：请先与报告者约定。"


def test_without_check_date_only_the_disclosure_date_is_left_out() -> None:
    late = facts_of(agreed_disclosure_date=GATE_TODAY + dt.timedelta(days=30))
    assert refusal(approved(), [late], check_date=False) is None
    assert refusal(approved(), [facts_of(agreed_disclosure_date=None)], check_date=False) is None
    assert refusal(approved(), [late], require_disclosure_date=False) is None
    assert refusal(approved(severity="Low"), [late], check_date=False, minimum_severity="High") == (
        SeverityBelowPolicy,
        "This policy publishes only advisories rated HIGH or higher; this one is LOW.",
    )


def test_the_disclosure_date_binds_on_the_day_it_comes() -> None:
    assert refusal(approved(), [facts_of(agreed_disclosure_date=GATE_TODAY)]) is None
    assert refusal(approved(), [facts_of(agreed_disclosure_date=GATE_TODAY - dt.timedelta(days=1))]) is None


def test_a_fix_in_the_advisorys_table_counts_for_the_cases_own_product_only() -> None:
    def fix(product_id: int | None, rows: list[tuple[int, bool]]) -> bool:
        return gate.case_has_fix(facts_of(has_fix=False, product_id=product_id), rows)

    assert fix(7, [(7, True), (8, False)]) is True  # the other product's missing fix does not count
    assert fix(7, [(7, True), (7, False)]) is False  # every row of the product must name its fix
    assert fix(7, [(8, True)]) is False  # no row of the case's product: nothing fixes it
    assert fix(None, [(7, True), (8, True)]) is True  # a case without a product: every row counts
    assert fix(None, [(7, True), (8, False)]) is False
    assert fix(None, []) is False
    assert gate.case_has_fix(facts_of(has_fix=True), []) is True  # the case desk's fixed release
    no_fix = facts_of(has_fix=False, has_sufficient_mitigation=False)
    assert refusal(approved(), [no_fix], rows=[(7, True)], required_remedy="fix") is None
    exploited = facts_of(has_fix=False, actively_exploited=True)
    assert refusal(approved(), [exploited], rows=[(7, True)], expedite=True, expedite_requires_fix=True) is None


def test_the_advisorys_workarounds_are_a_mitigation_only_when_marked_and_written() -> None:
    case = facts_of(has_sufficient_mitigation=False)
    marked = approved(mitigation_sufficient=True, workarounds_en="Disable remote access.")
    assert gate.case_has_mitigation(marked, case) is True
    assert gate.case_has_mitigation(approved(mitigation_sufficient=True, workarounds_en=" \n "), case) is False
    assert gate.case_has_mitigation(approved(mitigation_sufficient=False, workarounds_en="Disable it."), case) is False
    assert gate.case_has_mitigation(approved(), facts_of(has_sufficient_mitigation=True)) is True
    assert refusal(marked, [facts_of(has_fix=False, has_sufficient_mitigation=False)]) is None


def test_an_expedite_trigger_holds_for_any_case_or_the_advisory_itself() -> None:
    policy = PublicationPolicy()
    plain, exploited, concern = facts_of(), facts_of(actively_exploited=True), facts_of(public_concern=True)
    assert gate.is_expedite_warranted(approved(), [plain, exploited], policy) is True
    assert gate.is_expedite_warranted(approved(), [plain, concern], policy) is True
    assert gate.is_expedite_warranted(approved(public_concern=True), [plain], policy) is True
    assert gate.is_expedite_warranted(approved(), [plain, plain], policy) is False
    exploited_only = PublicationPolicy(expedite_when_public_concern=False)
    assert gate.is_expedite_warranted(approved(public_concern=True), [concern], exploited_only) is False
    concern_only = PublicationPolicy(expedite_when_exploited=False)
    assert gate.is_expedite_warranted(approved(), [exploited], concern_only) is False


POLICY_PAGES: list[tuple[dict[str, Any], list[str]]] = [
    (
        {},
        [
            "Advisories of any severity are published.",
            "An advisory is published only when a fix or a sufficient mitigation is available for every "
            "vulnerability it covers.",
            "An advisory is published on or after the disclosure date agreed with the reporter.",
            "An advisory may be published early, with a written justification approved by a lead, when the "
            "vulnerability is actively exploited or of public concern, with or without a fix.",
        ],
    ),
    (
        {
            "minimum_severity": "High",
            "required_remedy": "fix",
            "require_disclosure_date": False,
            "expedite_when_public_concern": False,
            "expedite_other_triggers": "A regulator asks for it\nA customer's safety is at risk",
            "expedite_requires_fix": True,
        },
        [
            "An advisory is published only when its severity is HIGH or higher.",
            "An advisory is published only when a fix is available for every vulnerability it covers.",
            "An advisory may be published before the disclosure date agreed with the reporter.",
            "An advisory may be published early, with a written justification approved by a lead, when the "
            "vulnerability is actively exploited or A regulator asks for it or A customer's safety is at risk; a fix "
            "must be available.",
        ],
    ),
    (
        {"minimum_severity": "Critical", "required_remedy": "both", "expedite_when_exploited": False},
        [
            "An advisory is published only when its severity is CRITICAL.",
            "An advisory is published only when a fix and a sufficient mitigation is available for every "
            "vulnerability it covers.",
            "An advisory is published on or after the disclosure date agreed with the reporter.",
            "An advisory may be published early, with a written justification approved by a lead, when the "
            "vulnerability is of public concern, with or without a fix.",
        ],
    ),
    (
        {"required_remedy": "mitigation", "expedite_when_exploited": False, "expedite_when_public_concern": False},
        [
            "Advisories of any severity are published.",
            "An advisory is published only when a sufficient mitigation is available for every vulnerability it "
            "covers.",
            "An advisory is published on or after the disclosure date agreed with the reporter.",
            "An advisory is never published before these conditions are met.",
        ],
    ),
]


@pytest.mark.parametrize("settings,sentences", POLICY_PAGES)
def test_the_policy_page_states_each_setting_in_words(settings: dict[str, Any], sentences: list[str]) -> None:
    with translation.override("en"):
        conditions = gate.public_conditions(PublicationPolicy(**settings))
    assert conditions == ["A lead of the security team approves every advisory before it is published.", *sentences]


def test_the_policy_page_joins_the_reasons_to_expedite_in_chinese_too() -> None:
    policy = PublicationPolicy(expedite_when_public_concern=False, expedite_other_triggers="监管机构要求")
    with translation.override("zh-hans"):
        conditions = gate.public_conditions(policy)
        assert gate.join_alternatives(["甲", "乙", "丙"]) == "甲 或 乙 或 丙"
    assert conditions[-1].startswith("当漏洞正被在野利用 或 监管机构要求时")
    assert gate.join_alternatives(["a"]) == "a"


def test_without_any_stored_version_the_policy_in_force_is_the_original_one(db: None) -> None:
    PublicationPolicy.objects.all().delete()
    policy = gate.current_policy()
    assert policy.pk is None and policy.version == 0
    assert services.policy_settings(policy) == services.POLICY_SETTINGS


def test_a_scheduled_publication_waits_for_the_latest_agreed_date() -> None:
    first, later = GATE_TODAY, GATE_TODAY + dt.timedelta(days=9)
    assert gate.disclosure_date([facts_of(agreed_disclosure_date=later), facts_of(agreed_disclosure_date=first)]) == (
        later
    )
    assert gate.disclosure_date([facts_of(agreed_disclosure_date=first)]) == first
    assert gate.disclosure_date([facts_of(), facts_of(agreed_disclosure_date=None)]) is None
    assert gate.disclosure_date([]) is None

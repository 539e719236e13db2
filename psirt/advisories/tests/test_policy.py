"""The publication policy (docs/advisories.md), enforced by the service: every combination that matters."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from psirt.accounts.models import User
from psirt.advisories import services
from psirt.advisories.exceptions import (
    CaseNotPublishable,
    EmbargoNotReached,
    ExpediteNeedsJustification,
    ExpediteNotWarranted,
    LeadApprovalRequired,
    NoFixOrMitigation,
    NotAllowed,
    PublicationRefused,
)
from psirt.advisories.models import AdvisoryState
from psirt.advisories.tests.conftest import approve, make_case
from psirt.audit.models import AuditEvent
from psirt.cases.models import CaseReport
from psirt.catalog.models import FirmwareRelease, Product
from psirt.intake.services import ReportInput, submit_report

TODAY = object()
DATES = {
    "past": lambda: timezone.localdate() - dt.timedelta(days=3),
    "today": timezone.localdate,
    "future": lambda: timezone.localdate() + dt.timedelta(days=10),
    "none": lambda: None,
}

# fix, mitigation, date, exploited, concern, expedite, justification, lead approved (expedite), approved, expected
TABLE = [
    # normal publication
    (True, False, "past", False, False, False, False, False, True, None),
    (True, False, "today", False, False, False, False, False, True, None),
    (False, True, "past", False, False, False, False, False, True, None),
    (True, True, "past", False, False, False, False, False, True, None),
    (True, False, "past", False, False, False, False, False, False, LeadApprovalRequired),
    (False, False, "past", False, False, False, False, False, True, NoFixOrMitigation),
    (False, False, "past", True, False, False, False, False, True, NoFixOrMitigation),
    (True, False, "future", False, False, False, False, False, True, EmbargoNotReached),
    (False, True, "future", False, False, False, False, False, True, EmbargoNotReached),
    (True, False, "none", False, False, False, False, False, True, EmbargoNotReached),
    (True, False, "future", True, False, False, False, False, True, EmbargoNotReached),
    # expedited publication
    (False, False, "future", True, False, True, True, True, False, None),
    (True, False, "future", True, False, True, True, True, True, None),
    (False, False, "none", False, True, True, True, True, False, None),
    (False, False, "future", False, False, True, True, True, True, ExpediteNotWarranted),
    (True, True, "past", False, False, True, True, True, True, ExpediteNotWarranted),
    (False, False, "future", True, False, True, False, False, False, ExpediteNeedsJustification),
    (False, False, "future", True, False, True, False, True, False, ExpediteNeedsJustification),
    (False, False, "future", True, False, True, True, False, True, LeadApprovalRequired),
    (False, False, "future", False, True, True, True, False, False, LeadApprovalRequired),
]


@pytest.mark.parametrize(
    "fix,mitigation,date,exploited,concern,expedite,justification,expedite_ok,approved,expected", TABLE
)
def test_publication_policy(
    fix: bool,
    mitigation: bool,
    date: str,
    exploited: bool,
    concern: bool,
    expedite: bool,
    justification: bool,
    expedite_ok: bool,
    approved: bool,
    expected: type[Exception] | None,
    product: Product,
    releases: dict[str, FirmwareRelease],
    lead: User,
    handler: User,
) -> None:
    case = make_case(
        product=product,
        disclosure_date=DATES[date](),
        exploitation="active" if exploited else "none",
        assignee=handler,
        state="remediation",
    )
    advisory = services.create_advisory(cases=[case], actor=handler)
    advisory = services.update_advisory(
        advisory=advisory,
        actor=handler,
        changes={
            "workarounds_en": "Disable the web UI." if mitigation else "",
            "mitigation_sufficient": mitigation,
            "public_concern": concern,
        },
        affected=[services.AffectedInput(product=product, fixed=releases["V5.6.0"] if fix else None)],
    )
    if justification:
        advisory = services.set_expedite_justification(
            advisory=advisory, actor=handler, justification="Exploited in the wild against customers."
        )
    if expedite_ok and justification:
        advisory = services.approve_expedite(advisory=advisory, actor=lead)
    if approved:
        advisory = approve(advisory, lead)
    if expected is None:
        result = services.publish_advisory(advisory=advisory, actor=lead, expedite=expedite)
        assert result.state == AdvisoryState.PUBLISHED
        assert [r.number for r in result.revisions.all()] == [1]
        case.refresh_from_db()
        assert case.state == "published"
    else:
        with pytest.raises(expected) as info:
            services.publish_advisory(advisory=advisory, actor=lead, expedite=expedite)
        assert getattr(info.value, "message", "")
        advisory.refresh_from_db()
        assert advisory.state != AdvisoryState.PUBLISHED
        case.refresh_from_db()
        assert case.state == "remediation"


def test_refusal_messages_name_the_missing_condition(
    product: Product, releases: dict[str, FirmwareRelease], lead: User
) -> None:
    future = timezone.localdate() + dt.timedelta(days=30)
    case = make_case(product=product, disclosure_date=future)
    advisory = approve(services.create_advisory(cases=[case], actor=lead), lead)
    with pytest.raises(NoFixOrMitigation, match=case.key):
        services.publish_advisory(advisory=advisory, actor=lead)
    services.update_advisory(
        advisory=advisory,
        actor=lead,
        changes={},
        affected=[services.AffectedInput(product=product, fixed=releases["V5.6.0"])],
    )
    advisory = approve(advisory, lead)
    with pytest.raises(EmbargoNotReached, match=future.isoformat()):
        services.publish_advisory(advisory=advisory, actor=lead)
    with pytest.raises(ExpediteNotWarranted, match="actively exploited or of public concern"):
        services.publish_advisory(advisory=advisory, actor=lead, expedite=True)


def test_every_case_of_an_advisory_must_meet_the_policy(
    product: Product, releases: dict[str, FirmwareRelease], lead: User, yesterday: dt.date
) -> None:
    ready = make_case(product=product, disclosure_date=yesterday)
    waiting = make_case(product=product, disclosure_date=None, title="Hard-coded key")
    advisory = services.create_advisory(cases=[ready, waiting], actor=lead)
    services.update_advisory(
        advisory=advisory,
        actor=lead,
        changes={},
        affected=[services.AffectedInput(product=product, fixed=releases["V5.6.0"])],
    )
    with pytest.raises(EmbargoNotReached, match=waiting.key):
        services.publish_advisory(advisory=approve(advisory, lead), actor=lead)


def test_a_rejected_case_blocks_publication(
    product: Product, releases: dict[str, FirmwareRelease], lead: User, yesterday: dt.date
) -> None:
    case = make_case(product=product, disclosure_date=yesterday, exploitation="active")
    advisory = services.create_advisory(cases=[case], actor=lead)
    services.set_expedite_justification(advisory=advisory, actor=lead, justification="Mass exploitation.")
    services.approve_expedite(advisory=advisory, actor=lead)
    case.state = "rejected"
    case.save()
    with pytest.raises(CaseNotPublishable, match=case.key):
        services.publish_advisory(advisory=advisory, actor=lead, expedite=True)


def test_only_a_lead_approves_publication_and_expedite(draft, handler: User, lead: User) -> None:  # type: ignore[no-untyped-def]
    advisory = services.submit_for_review(advisory=draft, actor=handler)
    with pytest.raises(NotAllowed):
        services.approve_advisory(advisory=advisory, actor=handler)
    services.set_expedite_justification(advisory=advisory, actor=handler, justification="Public PoC on a forum.")
    with pytest.raises(NotAllowed):
        services.approve_expedite(advisory=advisory, actor=handler)


def test_changing_the_justification_needs_a_new_approval(product: Product, lead: User, handler: User) -> None:
    case = make_case(product=product, exploitation="active", assignee=handler)
    advisory = services.create_advisory(cases=[case], actor=handler)
    services.set_expedite_justification(advisory=advisory, actor=handler, justification="Exploited.")
    services.approve_expedite(advisory=advisory, actor=lead)
    advisory = services.set_expedite_justification(advisory=advisory, actor=handler, justification="Other words.")
    assert advisory.expedite_approved_by is None
    with pytest.raises(LeadApprovalRequired):
        services.publish_advisory(advisory=advisory, actor=lead, expedite=True)


def test_unassigned_handler_cannot_publish(published, other_handler: User) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises((NotAllowed, PublicationRefused)):
        services.publish_advisory(advisory=published, actor=other_handler)


def test_editing_an_approved_advisory_withdraws_the_approval(draft, lead: User) -> None:  # type: ignore[no-untyped-def]
    advisory = approve(draft, lead)
    advisory = services.update_advisory(advisory=advisory, actor=lead, changes={"title_en": "New words"})
    assert advisory.state == AdvisoryState.DRAFT
    with pytest.raises(LeadApprovalRequired):
        services.publish_advisory(advisory=advisory, actor=lead)


def test_publishing_updates_the_reporters_timeline_and_audits(
    product: Product, releases: dict[str, FirmwareRelease], lead: User, yesterday: dt.date
) -> None:
    report = submit_report(
        data=ReportInput(
            reporter_name="Ada",
            reporter_email="ada@research.test",
            description="RCE",
            product=product,
            accepted_guidelines=True,
        ),
        send_acknowledgment=False,
    ).report
    case = make_case(product=product, disclosure_date=yesterday, state="confirmed")
    CaseReport.objects.create(case=case, report=report)
    advisory = services.create_advisory(cases=[case], actor=lead)
    services.update_advisory(
        advisory=advisory,
        actor=lead,
        changes={},
        affected=[services.AffectedInput(product=product, fixed=releases["V5.6.0"])],
    )
    services.publish_advisory(advisory=approve(advisory, lead), actor=lead)
    case.refresh_from_db()
    report.refresh_from_db()
    assert case.state == "published"
    assert report.stage == "published"
    actions = list(AuditEvent.objects.values_list("action", flat=True))
    assert "advisory.published" in actions
    assert actions.count("case.transition") == 3  # confirmed → remediation → awaiting disclosure → published


def test_the_case_desks_remediation_counts_and_prefills(
    product: Product, releases: dict[str, FirmwareRelease], lead: User, yesterday: dt.date
) -> None:
    from psirt.cases.services.remediation import add_mitigation, set_affected_range

    fixed_case = make_case(product=product, disclosure_date=yesterday)
    set_affected_range(
        case=fixed_case, product=product, actor=lead, introduced=releases["V5.5.0"], fixed=releases["V5.6.0"]
    )
    advisory = services.create_advisory(cases=[fixed_case], actor=lead)
    row = advisory.affected.get()
    assert (row.introduced, row.fixed) == (releases["V5.5.0"], releases["V5.6.0"])
    # The advisory's own table loses the fix: the case desk's range still says the case is fixed.
    advisory.affected.update(fixed=None)
    services.override_fact(advisory=advisory, fact="affected", reason="Fix not yet downloadable.", actor=lead)
    assert services.publish_advisory(advisory=approve(advisory, lead), actor=lead).state == AdvisoryState.PUBLISHED

    mitigated = make_case(product=product, disclosure_date=yesterday, title="Weak session tokens")
    set_affected_range(case=mitigated, product=product, actor=lead, introduced=releases["V5.5.0"])
    add_mitigation(
        case=mitigated, actor=lead, text_en="Turn off remote access.", text_zh="关闭远程访问。", sufficient=True
    )
    advisory = services.create_advisory(cases=[mitigated], actor=lead)
    assert advisory.workarounds_en == "Turn off remote access." and advisory.workarounds_zh == "关闭远程访问。"
    assert advisory.mitigation_sufficient
    assert services.publish_advisory(advisory=approve(advisory, lead), actor=lead).state == AdvisoryState.PUBLISHED

    unfixed = make_case(product=product, disclosure_date=yesterday, title="Open telnet")
    set_affected_range(case=unfixed, product=product, actor=lead)
    advisory = approve(services.create_advisory(cases=[unfixed], actor=lead), lead)
    with pytest.raises(NoFixOrMitigation):
        services.publish_advisory(advisory=advisory, actor=lead)

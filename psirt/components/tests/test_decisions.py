"""VEX decisions: validated, for many releases at once, audited, history kept, customer answer."""

from __future__ import annotations

import datetime

import pytest
from django.core.management import call_command

from psirt.accounts.models import User
from psirt.audit.models import AuditEvent
from psirt.catalog.models import FirmwareRelease
from psirt.components import queries
from psirt.components.exceptions import InvalidDecision, NotAllowed
from psirt.components.models import VexDecision, VexStatus, Vulnerability
from psirt.components.services import decide, import_sbom, releases_in_range
from psirt.components.tests.conftest import SAMPLES, sample


@pytest.fixture
def openssl(releases: list[FirmwareRelease], lead: User) -> Vulnerability:
    for release in releases:
        import_sbom(release=release, data=sample("cyclonedx-1.6.json"), actor=lead)
    call_command("import_vulns", str(SAMPLES / "osv"))
    return Vulnerability.objects.get(vuln_id="OSV-2024-OPENSSL-1")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"status": "not_affected", "impact_statement": "x"}, "standard justifications"),
        ({"status": "not_affected", "justification": "component_not_present"}, "impact statement"),
        ({"status": "affected"}, "action statement"),
        ({"status": "affected", "action_statement": "update", "justification": "component_not_present"}, "belongs"),
        ({"status": "maybe"}, "Choose a VEX status"),
        ({"status": "under_investigation", "impact_statement": "x" * 4001}, "at most"),
        ({"status": "under_investigation", "action_statement_zh": "升" * 4001}, "at most"),
        (
            {"status": "not_affected", "justification": "component_not_present", "impact_statement_zh": "不存在"},
            "impact statement",
        ),
        ({"status": "affected", "action_statement": "Up.", "impact_statement_zh": "影响"}, "English one too"),
        ({"status": "affected", "action_statement_zh": "请升级"}, "action statement"),
        (
            {"status": "under_investigation", "maintainer_notified_at": datetime.date(2999, 1, 1)},
            "future",
        ),
    ],
)
def test_refusals(
    openssl: Vulnerability, releases: list[FirmwareRelease], lead: User, kwargs: dict, message: str
) -> None:
    with pytest.raises(InvalidDecision, match=message):
        decide(releases=releases, vulnerability=openssl, actor=lead, **kwargs)
    assert not VexDecision.objects.exists()


def test_many_releases_at_once_audited_and_history_kept(
    openssl: Vulnerability, releases: list[FirmwareRelease], lead: User
) -> None:
    decide(releases=releases[:2], vulnerability=openssl, status="under_investigation", actor=lead)
    decide(
        releases=releases[:2],
        vulnerability=openssl,
        status="not_affected",
        justification="vulnerable_code_not_in_execute_path",
        impact_statement="NPN is never used by the web server.",
        maintainer_notified_at=datetime.date(2026, 1, 5),
        maintainer_notice="openssl-security@openssl.org",
        actor=lead,
    )
    assert VexDecision.objects.filter(release=releases[0]).count() == 2
    current = queries.current_decision(releases[0], openssl)
    assert current is not None and current.status == VexStatus.NOT_AFFECTED
    assert current.maintainer_notice == "openssl-security@openssl.org"
    assert queries.current_decisions().filter(vulnerability=openssl).count() == 2
    assert AuditEvent.objects.filter(action="components.vex_decided").count() == 4
    assert openssl in queries.open_questions(releases[2])
    assert openssl not in queries.open_questions(releases[0])
    assert queries.open_questions(releases[0]).count() == queries.open_questions(releases[2]).count() - 1


def test_product_range(releases: list[FirmwareRelease]) -> None:
    assert releases_in_range(first=releases[2], last=releases[0]) == releases


def test_fixed_defaults_to_the_release_and_must_be_same_product(
    openssl: Vulnerability, releases: list[FirmwareRelease], other_release: FirmwareRelease, lead: User
) -> None:
    (decision,) = decide(releases=[releases[2]], vulnerability=openssl, status="fixed", actor=lead)
    assert decision.fixed_in == releases[2]
    with pytest.raises(InvalidDecision, match="same product"):
        decide(releases=[releases[0]], vulnerability=openssl, status="fixed", fixed_in=releases[2], actor=lead)
    with pytest.raises(InvalidDecision, match="same product"):
        decide(releases=[releases[2]], vulnerability=openssl, status="fixed", fixed_in=other_release, actor=lead)


def test_outsider_cannot_decide(openssl: Vulnerability, releases: list[FirmwareRelease], engineer: User) -> None:
    with pytest.raises(NotAllowed):
        decide(releases=releases, vulnerability=openssl, status="under_investigation", actor=engineer)
    engineer.product_lines.add(releases[0].product.line)
    assert len(decide(releases=releases, vulnerability=openssl, status="under_investigation", actor=engineer)) == 3


def test_public_answer_and_update_target(openssl: Vulnerability, releases: list[FirmwareRelease], lead: User) -> None:
    assert queries.public_answer(releases[0], openssl).status == VexStatus.UNDER_INVESTIGATION
    decide(releases=releases[:2], vulnerability=openssl, status="affected", action_statement="Update.", actor=lead)
    decide(releases=[releases[2]], vulnerability=openssl, status="fixed", actor=lead)
    answer = queries.public_answer(releases[0], openssl)
    assert (answer.status, answer.action_statement, answer.update_to) == ("affected", "Update.", releases[2])
    assert queries.public_answer(releases[2], openssl).status == "fixed"


def test_undecided_answer_reveals_nothing_unless_sboms_are_public(releases: list[FirmwareRelease], lead: User) -> None:
    import_sbom(release=releases[0], data=sample("cyclonedx-1.4.json"), actor=lead)  # openssl 3.0.14: no match
    call_command("import_vulns", str(SAMPLES / "osv" / "openssl.json"))
    vuln = Vulnerability.objects.get(vuln_id="OSV-2024-OPENSSL-1")
    assert queries.public_answer(releases[0], vuln).status == VexStatus.UNDER_INVESTIGATION
    line = releases[0].product.line
    line.sboms_public = True
    line.save()
    release = FirmwareRelease.objects.select_related("product__line").get(pk=releases[0].pk)
    answer = queries.public_answer(release, vuln)
    assert (answer.status, answer.justification, answer.decided) == ("not_affected", "component_not_present", False)

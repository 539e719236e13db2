"""Obligations are recognised from the case, decided by a lead with evidence (encrypted) or a reason, filed with
a frozen copy of the fields, and the record is append-only; every step is audited."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError, connection, transaction
from django.utils import timezone, translation

from psirt.accounts.models import User
from psirt.advisories.models import Advisory, AdvisoryState
from psirt.advisories.services import create_advisory
from psirt.audit.models import AuditEvent
from psirt.cases.models import Case
from psirt.cases.services import cases as case_services
from psirt.lib.crypto import file_store
from psirt.regulatory import services
from psirt.regulatory.clocks import Stage, Track
from psirt.regulatory.data import fields_for, required_keys
from psirt.regulatory.exceptions import Conflict, InvalidInput, MissingFields, NotAllowed
from psirt.regulatory.models import (
    RETENTION_DAYS,
    AppendOnly,
    Decision,
    EvidenceFile,
    Filing,
    FilingKind,
    Obligation,
    Retained,
)
from psirt.regulatory.prefill import case_values, miit_text, stage_values

pytestmark = pytest.mark.django_db

UTC = dt.UTC


def test_active_exploitation_opens_one_obligation_to_decide(exploited: Case) -> None:
    assert services.ensure_exploited_obligations() == 1
    assert services.ensure_exploited_obligations() == 0
    obligation = Obligation.objects.get(case=exploited)
    assert obligation.track == Track.VULNERABILITY
    assert obligation.decision == Decision.PENDING
    assert obligation.aware_at == exploited.exploitation_aware_at
    # Prefilled from the fixed release's date.
    assert obligation.measure_available_at == dt.datetime(2026, 11, 20, tzinfo=UTC)
    assert AuditEvent.objects.filter(action="regulatory.obligation.open", target_id=str(obligation.public_id)).exists()


def test_a_case_that_is_not_actively_exploited_opens_nothing(case: Case, lead: User) -> None:
    case_services.set_exploitation(case=case, status="poc", actor=lead)
    assert services.ensure_exploited_obligations() == 0


def test_a_corrected_awareness_moves_the_pending_clock(obligation: Obligation, exploited: Case, lead: User) -> None:
    earlier = obligation.aware_at - dt.timedelta(hours=5)
    case_services.set_exploitation(case=exploited, status="active", actor=lead, aware_at=earlier)
    services.ensure_exploited_obligations()
    obligation.refresh_from_db()
    assert obligation.aware_at == earlier


def test_decide_reportable_with_encrypted_evidence(obligation: Obligation, lead: User) -> None:
    upload = SimpleUploadedFile("pcap.txt", b"attacker traffic from 203.0.113.9")
    services.decide(
        obligation=obligation,
        actor=lead,
        reportable=True,
        evidence="Honeypot saw exploitation by a botnet",
        files=[upload],
    )
    obligation.refresh_from_db()
    assert obligation.decision == Decision.REPORTABLE
    assert obligation.decided_by == lead
    with connection.cursor() as cursor:
        cursor.execute("SELECT evidence FROM regulatory_obligation WHERE id = %s", [obligation.pk])
        stored = cursor.fetchone()[0]
    assert "botnet" not in stored
    assert obligation.evidence == "Honeypot saw exploitation by a botnet"
    item = obligation.evidence_files.get()
    raw = (file_store().root / item.storage_name[:2] / item.storage_name).read_bytes()
    assert b"attacker" not in raw
    assert file_store().read(item.storage_name) == b"attacker traffic from 203.0.113.9"
    event = AuditEvent.objects.get(action="regulatory.obligation.decide")
    assert event.data == {"decision": "reportable", "files": 1}
    assert "botnet" not in str(event.data)


@pytest.fixture
def own_store(settings: Any, tmp_path: Any) -> None:
    """A file store of this test's own: other tests (and other workers) write to the shared one meanwhile."""
    settings.PSIRT_SHARED_DIR = tmp_path


def _stored_files() -> set[str]:
    root = file_store().root
    return {p.name for p in root.glob("*/*.enc")} if root.is_dir() else set()


def test_a_refused_decision_leaves_no_evidence_file_behind(obligation: Obligation, lead: User, own_store: None) -> None:
    obligation = _reportable(obligation, lead)
    services.submit_stage(
        obligation=obligation,
        actor=lead,
        stage=Stage.EARLY_WARNING,
        values=dict.fromkeys(required_keys(Track.VULNERABILITY, Stage.EARLY_WARNING), "x"),
    )
    before = _stored_files()
    uploads = [SimpleUploadedFile(f"trace-{i}.txt", b"attacker traffic") for i in range(3)]
    with pytest.raises(Conflict):  # something was filed: the decision can no longer change
        services.decide(obligation=obligation, actor=lead, reportable=True, evidence="new evidence", files=uploads)
    assert _stored_files() == before
    assert not obligation.evidence_files.exists()


def test_evidence_written_then_rolled_back_leaves_no_file(
    obligation: Obligation, lead: User, monkeypatch: pytest.MonkeyPatch, own_store: None
) -> None:
    def fail(**kwargs: object) -> None:
        raise DatabaseError("audit chain unavailable")

    monkeypatch.setattr(services, "record", fail)
    before = _stored_files()
    with pytest.raises(DatabaseError):
        services.decide(
            obligation=obligation,
            actor=lead,
            reportable=True,
            evidence="seen",
            files=[SimpleUploadedFile("a.txt", b"one"), SimpleUploadedFile("b.txt", b"two")],
        )
    assert _stored_files() == before
    obligation.refresh_from_db()
    assert obligation.decision == Decision.PENDING and not obligation.evidence_files.exists()


def test_the_sweep_keeps_evidence_files_and_removes_unreferenced_ones(
    obligation: Obligation, lead: User, own_store: None
) -> None:
    from psirt.intake.services.attachments import sweep_files

    services.decide(
        obligation=obligation,
        actor=lead,
        reportable=True,
        evidence="seen",
        files=[SimpleUploadedFile("pcap.txt", b"attacker traffic")],
    )
    item = obligation.evidence_files.get()
    store = file_store()
    # What a killed process leaves: ciphertext written, its row never committed.
    orphan = store.save([b"never attached"], prefix="reg")
    later = dt.datetime.now(UTC) + dt.timedelta(hours=2)  # both are older than the sweep's grace period
    assert sweep_files(now=later)["orphans"] == 1
    assert not store.exists(orphan.name)
    assert store.read(item.storage_name) == b"attacker traffic"


def test_key_rotation_reencrypts_evidence_files(
    obligation: Obligation, lead: User, settings: Any, own_store: None
) -> None:
    from django.core.management import call_command

    from psirt.lib import stored_files
    from psirt.lib.config import new_fernet_key

    services.decide(
        obligation=obligation,
        actor=lead,
        reportable=True,
        evidence="seen",
        files=[SimpleUploadedFile("pcap.txt", b"attacker traffic")],
    )
    item = obligation.evidence_files.get()
    assert stored_files.referenced([item.storage_name, "0" * 32 + "-reg.enc"]) == {item.storage_name}
    old, new = tuple(settings.PSIRT_ENCRYPTION_KEYS), new_fernet_key()
    settings.PSIRT_ENCRYPTION_KEYS = (new, *old)
    call_command("rotatekeys", stdout=io.StringIO())
    settings.PSIRT_ENCRYPTION_KEYS = (new,)  # the old key is gone: only a rotated file still reads
    assert file_store().read(item.storage_name) == b"attacker traffic"
    assert Obligation.objects.get(pk=obligation.pk).evidence == "seen"


def test_not_reportable_needs_a_reason(obligation: Obligation, lead: User) -> None:
    with pytest.raises(InvalidInput):
        services.decide(obligation=obligation, actor=lead, reportable=False, reason="  ")
    services.decide(
        obligation=obligation, actor=lead, reportable=False, reason="Exploited only by the reporter in a lab"
    )
    obligation.refresh_from_db()
    assert obligation.decision == Decision.NOT_REPORTABLE
    assert not obligation.is_active


def test_reportable_needs_evidence(obligation: Obligation, lead: User) -> None:
    with pytest.raises(InvalidInput):
        services.decide(obligation=obligation, actor=lead, reportable=True, evidence="")


def test_only_a_lead_decides(obligation: Obligation, handler: User) -> None:
    with pytest.raises(NotAllowed):
        services.decide(obligation=obligation, actor=handler, reportable=True, evidence="x")


def test_hostile_and_oversized_input_is_refused(obligation: Obligation, lead: User) -> None:
    with pytest.raises(InvalidInput):
        services.decide(obligation=obligation, actor=lead, reportable=True, evidence="x" * 20_001)
    with pytest.raises(InvalidInput):
        services.open_incident(actor=lead, title="t", aware_at=dt.datetime(2026, 1, 1, 12, 0))  # naive
    with pytest.raises(InvalidInput):
        services.open_incident(actor=lead, title="t", aware_at=dt.datetime.now(UTC) + dt.timedelta(days=2))
    with pytest.raises(InvalidInput):
        services.open_incident(actor=lead, title="t", aware_at=dt.datetime(1999, 1, 1, tzinfo=UTC))
    obligation.refresh_from_db()
    assert obligation.decision == Decision.PENDING


def _reportable(obligation: Obligation, lead: User) -> Obligation:
    return services.decide(obligation=obligation, actor=lead, reportable=True, evidence="seen in the wild")


def test_prefill_from_the_case(obligation: Obligation, lead: User) -> None:
    assert obligation.case is not None
    case_services.set_cvss(case=obligation.case, vector="CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", actor=lead)
    obligation = Obligation.objects.get(pk=obligation.pk)
    with translation.override("zh-hans"):  # the desk's language does not leak into the English platform
        values = case_values(obligation)
    assert values["severity"].startswith("Severity: Critical; CVSS v3.1 9.8 CVSS:3.1/AV:N")
    assert values["product_name"] == "Camera X5"
    assert values["product_versions"] == "Camera X5: 1.0 up to before 1.1"
    assert values["member_states"] == "Germany, France, Netherlands"
    assert values["cve_id"] == "CVE-2026-1111"
    assert values["manufacturer"] == "Example Devices"
    assert "Disable RTSP" in values["measures_users"]
    assert "Camera X5 1.1" in values["update_details"]
    assert values["aware_at"].endswith("UTC")


def test_descriptive_fields_come_from_the_cases_advisory_never_from_the_report(
    obligation: Obligation, lead: User
) -> None:
    case = obligation.case
    assert case is not None
    report_text = "Unauthenticated RCE in the web UI."  # the reporter's encrypted text (factory default)
    values = case_values(obligation)
    assert values["full_description"] == values["impact"] == values["general_information"] == ""
    assert not any(report_text in v for v in values.values())

    for state in ("acknowledged", "triage", "confirmed"):
        case = case_services.transition(case=case, to_state=state, actor=lead)
    draft = create_advisory(cases=[case], actor=lead)
    Advisory.objects.filter(pk=draft.pk).update(
        summary_en="RTSP overflow lets a remote attacker run code.",
        summary_zh="RTSP 溢出",
        description_en="A stack overflow in the RTSP parser of Camera X5 before 1.1.",
        description_zh="摄像机 RTSP 解析器栈溢出。",
        impact_en="Remote code execution without authentication.",
    )
    with translation.override("zh-hans"):  # the platform is English-only, whatever the desk's language
        values = case_values(obligation)
    assert values["full_description"] == "A stack overflow in the RTSP parser of Camera X5 before 1.1."
    assert values["general_information"] == "RTSP overflow lets a remote attacker run code."
    assert values["impact"] == "Remote code execution without authentication."
    final = {k: v for k, _label, _req, v in stage_values(obligation, Stage.FINAL)}
    assert final["full_description"].startswith("A stack overflow")

    # A published advisory is the text users saw: it wins over a newer draft; a withdrawn one never counts.
    published = create_advisory(cases=[case], actor=lead)
    Advisory.objects.filter(pk=published.pk).update(
        state=AdvisoryState.PUBLISHED, published_at=dt.datetime(2026, 11, 1, tzinfo=UTC), description_en="Published."
    )
    assert case_values(obligation)["full_description"] == "Published."
    Advisory.objects.filter(pk=published.pk).update(state=AdvisoryState.WITHDRAWN)
    assert case_values(obligation)["full_description"].startswith("A stack overflow")
    Advisory.objects.filter(pk=draft.pk).update(state=AdvisoryState.WITHDRAWN)
    assert case_values(obligation)["full_description"] == ""


def test_euvd_ids_of_the_case_prefill_their_field(obligation: Obligation, lead: User) -> None:
    assert obligation.case is not None
    assert case_values(obligation)["euvd_id"] == ""
    case_services.add_reference(case=obligation.case, value="  euvd-2026-11234 ", actor=lead)
    case_services.add_reference(case=obligation.case, value="EUVD-2025-99999", actor=lead)
    values = case_values(obligation)
    assert values["euvd_id"] == "EUVD-2025-99999, EUVD-2026-11234"
    assert values["cve_id"] == "CVE-2026-1111"  # the EUVD IDs are not CVE IDs
    early = {k: v for k, _label, _req, v in stage_values(obligation, Stage.EARLY_WARNING)}
    assert early["euvd_id"] == "EUVD-2025-99999, EUVD-2026-11234"


def test_submit_freezes_the_fields_and_names_the_csirt(obligation: Obligation, lead: User, handler: User) -> None:
    obligation = _reportable(obligation, lead)
    filing = services.submit_stage(
        obligation=obligation,
        actor=handler,
        stage=Stage.EARLY_WARNING,
        values={"summary": "Exploited RTSP overflow", "product_name": "Camera X5"},
        reference="SRP-2026-0042",
    )
    assert filing.csirt == "BSI (CERT-Bund)"
    assert filing.member_state == "DE"
    assert filing.reference == "SRP-2026-0042"
    assert filing.actor == handler
    keys = [row[0] for row in filing.fields]
    assert keys == [f.key for f in fields_for(Track.VULNERABILITY, Stage.EARLY_WARNING)]
    assert {k: v for k, _l, v in filing.fields}["summary"] == "Exploited RTSP overflow"
    # Later edits of the draft do not change what was filed.
    services.save_draft(obligation=obligation, actor=lead, stage=Stage.EARLY_WARNING, values={"summary": "changed"})
    filing.refresh_from_db()
    assert {k: v for k, _l, v in filing.fields}["summary"] == "Exploited RTSP overflow"
    assert AuditEvent.objects.filter(action="regulatory.filing.submit").count() == 1
    with pytest.raises(Conflict):
        services.submit_stage(obligation=obligation, actor=lead, stage=Stage.EARLY_WARNING)


def test_a_required_field_left_empty_refuses_submission_naming_it(obligation: Obligation, lead: User) -> None:
    obligation = _reportable(obligation, lead)
    with pytest.raises(MissingFields) as exc:
        services.submit_stage(obligation=obligation, actor=lead, stage=Stage.EARLY_WARNING, values={"title": ""})
    assert "Title" in str(exc.value.message)
    assert "title" in exc.value.errors
    assert not Filing.objects.exists()


def test_a_pending_obligation_cannot_be_filed(obligation: Obligation, lead: User) -> None:
    with pytest.raises(Conflict):
        services.submit_stage(obligation=obligation, actor=lead, stage=Stage.EARLY_WARNING)


def test_without_a_member_state_the_csirt_cannot_be_chosen(obligation: Obligation, lead: User, profile) -> None:
    profile.eu_member_state = ""
    profile.save()
    obligation = _reportable(obligation, lead)
    with pytest.raises(InvalidInput, match="Member State"):
        services.submit_stage(obligation=obligation, actor=lead, stage=Stage.EARLY_WARNING)


def test_filings_are_append_only(obligation: Obligation, lead: User) -> None:
    obligation = _reportable(obligation, lead)
    filing = services.submit_stage(obligation=obligation, actor=lead, stage=Stage.EARLY_WARNING)
    filing.reference = "changed"
    with pytest.raises(AppendOnly):
        filing.save()
    with pytest.raises(AppendOnly):
        filing.delete()
    with pytest.raises(AppendOnly):
        Filing.objects.filter(pk=filing.pk).update(reference="x")
    with pytest.raises(AppendOnly):
        Filing.objects.all().delete()
    # And at the database: raw SQL is refused too.
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE regulatory_filing SET reference = 'x' WHERE id = %s", [filing.pk])
    assert Filing.objects.get(pk=filing.pk).reference == ""


def test_incident_final_clock_starts_at_the_notification_submission(lead: User, profile) -> None:
    aware = dt.datetime.now(UTC) - dt.timedelta(hours=30)
    incident = services.open_incident(actor=lead, title="Update server compromised", aware_at=aware)
    assert incident.case is None and incident.decision == Decision.REPORTABLE
    final = {c.stage: c for c in services.obligation_clocks(incident)}[Stage.FINAL]
    assert final.due_at is None
    values = {
        "summary": "s",
        "member_states": "Germany",
        "product_name": "Camera X5",
        "product_versions": "1.0",
        "malicious_suspected": "yes",
        "incident_nature": "Signing key misuse",
    }
    services.submit_stage(obligation=incident, actor=lead, stage=Stage.EARLY_WARNING, values=values)
    submitted = dt.datetime.now(UTC).replace(microsecond=0) - dt.timedelta(minutes=1)
    services.submit_stage(obligation=incident, actor=lead, stage=Stage.NOTIFICATION, submitted_at=submitted)
    final = {c.stage: c for c in services.obligation_clocks(incident)}[Stage.FINAL]
    assert final.started_at == submitted


def test_csirt_request_gets_its_own_clock_until_answered(obligation: Obligation, lead: User) -> None:
    obligation = _reportable(obligation, lead)
    due = dt.datetime.now(UTC) + dt.timedelta(days=3)
    request = services.record_entry(
        obligation=obligation, actor=lead, kind=FilingKind.CSIRT_REQUEST, note="Send logs", due_at=due
    )
    inter = [c for c in services.obligation_clocks(obligation) if c.stage == Stage.INTERMEDIATE]
    assert len(inter) == 1 and inter[0].due_at == due and not inter[0].done
    with pytest.raises(InvalidInput):
        services.record_entry(obligation=obligation, actor=lead, kind=FilingKind.CSIRT_REQUEST, note="no date")
    services.record_entry(
        obligation=obligation, actor=lead, kind=FilingKind.CSIRT_ANSWER, note="Logs sent", answers=request
    )
    inter = [c for c in services.obligation_clocks(obligation) if c.stage == Stage.INTERMEDIATE]
    assert inter[0].done
    assert AuditEvent.objects.filter(action="regulatory.filing.csirt_answer").exists()


def test_users_informed_and_supplier_notice_are_recorded(obligation: Obligation, handler: User, lead: User) -> None:
    obligation = _reportable(obligation, lead)
    services.record_entry(
        obligation=obligation, actor=handler, kind=FilingKind.USERS_INFORMED, note="Advisory PSA-2026-0007"
    )
    services.record_entry(
        obligation=obligation, actor=handler, kind=FilingKind.SUPPLIER_NOTICE, note="Told the RTSP library's maintainer"
    )
    assert list(obligation.filings.values_list("kind", flat=True)) == ["users_informed", "supplier_notice"]


def test_miit_report_in_chinese(case: Case, lead: User) -> None:
    obligation = services.open_miit(actor=lead, case=case)
    text = miit_text(obligation)
    assert "产品名称：Camera X5" in text
    assert "修复情况：已发布修复版本：Camera X5 1.1" in text
    assert "受影响版本：1.0 至 1.1 之前" in text
    clock = services.obligation_clocks(obligation)[0]
    assert clock.due_at == case.received_at + dt.timedelta(days=2)
    filing = services.submit_stage(obligation=obligation, actor=lead, stage=Stage.MIIT, reference="NVDB-1")
    assert filing.csirt == "MIIT NVDB"
    assert filing.fields[0][2].startswith("报告单位")
    with pytest.raises(Conflict):
        services.open_miit(actor=lead, case=case)


def test_miit_report_is_chinese_whatever_the_desk_language(case: Case, lead: User) -> None:
    from django.utils import translation

    case = case_services.set_cvss(case=case, vector="CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", actor=lead)
    obligation = services.open_miit(actor=lead, case=case)
    for language in ("en", "zh-hans"):
        with translation.override(language):
            text = miit_text(obligation)
        assert "严重程度：严重" in text, language
        assert "技术特点：CVSS v3.1 9.8 CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H" in text, language
        assert "Severity" not in text and "Critical" not in text, language
    with translation.override("zh-hans"):
        english = case_values(obligation)
    assert any("Severity: Critical" in value for value in english.values())


def test_reporting_records_are_kept_six_months(obligation: Obligation, lead: User) -> None:
    obligation = _reportable(obligation, lead)
    filing = services.submit_stage(obligation=obligation, actor=lead, stage=Stage.EARLY_WARNING)
    assert not services.may_delete(obligation, now=filing.recorded_at + dt.timedelta(days=182))
    assert services.may_delete(obligation, now=filing.recorded_at + dt.timedelta(days=183))
    # The case cannot be deleted under its obligations.
    from django.db.models import ProtectedError

    assert obligation.case is not None
    with pytest.raises(ProtectedError):
        obligation.case.delete()


def test_nothing_deletes_an_obligation_or_its_evidence_within_the_retention_period(
    obligation: Obligation, lead: User
) -> None:
    services.decide(
        obligation=obligation,
        actor=lead,
        reportable=True,
        evidence="seen",
        files=[SimpleUploadedFile("pcap.txt", b"attacker traffic")],
    )
    obligation = Obligation.objects.get(pk=obligation.pk)
    item = obligation.evidence_files.get()
    assert obligation.retained_until() == item.added_at + dt.timedelta(days=183)
    for attempt in (
        obligation.delete,
        Obligation.objects.filter(pk=obligation.pk).delete,
        item.delete,
        EvidenceFile.objects.filter(pk=item.pk).delete,
    ):
        with pytest.raises(Retained, match="kept until"):
            attempt()
    if connection.vendor == "postgresql":  # and at the database, whatever path tries it
        for sql in (
            "DELETE FROM regulatory_evidencefile WHERE id = %s",
            "DELETE FROM regulatory_obligation WHERE id = %s",
        ):
            with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(sql, [item.pk if "evidence" in sql else obligation.pk])
    assert EvidenceFile.objects.filter(pk=item.pk).exists() and Obligation.objects.filter(pk=obligation.pk).exists()

    # 183 days after the latest fact (here the evidence file, added after awareness), the records may go. Margins
    # of hours: PostgreSQL's triggers read now(), the start of the test's transaction, which may be minutes ago.
    old = dt.datetime.now(UTC) - dt.timedelta(days=183, hours=1)
    Obligation.objects.filter(pk=obligation.pk).update(aware_at=old - dt.timedelta(days=1), decided_at=old)
    EvidenceFile.objects.filter(pk=item.pk).update(added_at=old + dt.timedelta(hours=2))
    obligation = Obligation.objects.get(pk=obligation.pk)
    assert not services.may_delete(obligation)  # the evidence file is an hour younger than the limit
    with pytest.raises(Retained):
        obligation.evidence_files.all().delete()
    EvidenceFile.objects.filter(pk=item.pk).update(added_at=old)
    assert services.may_delete(obligation)
    obligation.evidence_files.all().delete()
    obligation.delete()
    assert not Obligation.objects.filter(pk=obligation.pk).exists()


def test_the_retention_period_runs_from_the_latest_of_awareness_decision_and_filing(
    obligation: Obligation, lead: User
) -> None:
    days = dt.timedelta(days=RETENTION_DAYS)
    aware = dt.datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
    decided = aware + dt.timedelta(days=10)
    Obligation.objects.filter(pk=obligation.pk).update(aware_at=aware, decided_at=None)
    obligation.refresh_from_db()
    assert obligation.retained_until() == aware + days
    Obligation.objects.filter(pk=obligation.pk).update(decided_at=decided)
    obligation.refresh_from_db()
    assert obligation.retained_until() == decided + days
    filing = services.submit_stage(obligation=_reportable(obligation, lead), actor=lead, stage=Stage.EARLY_WARNING)
    Obligation.objects.filter(pk=obligation.pk).update(aware_at=aware, decided_at=decided)
    obligation.refresh_from_db()
    assert obligation.retained_until() == filing.recorded_at + days


def test_every_guard_ends_the_retention_period_at_the_same_instant(
    obligation: Obligation, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Facts long past, so that PostgreSQL's triggers (which read the database's clock) let the rows go: what is
    # checked here is the models' guard, at the instant `may_delete` starts to allow the delete.
    Obligation.objects.filter(pk=obligation.pk).update(aware_at=dt.datetime(2025, 1, 6, tzinfo=UTC), decided_at=None)
    obligation.refresh_from_db()
    end = obligation.retained_until()
    monkeypatch.setattr(timezone, "now", lambda: end - dt.timedelta(microseconds=1))
    assert not services.may_delete(obligation)
    for attempt in (obligation.delete, Obligation.objects.filter(pk=obligation.pk).delete):
        with pytest.raises(Retained):
            attempt()
    monkeypatch.setattr(timezone, "now", lambda: end)
    assert services.may_delete(obligation)
    Obligation.objects.filter(pk=obligation.pk).delete()
    assert not Obligation.objects.filter(pk=obligation.pk).exists()


@pytest.mark.parametrize("track", [Track.VULNERABILITY, Track.INCIDENT])
@pytest.mark.parametrize("stage", [Stage.EARLY_WARNING, Stage.NOTIFICATION, Stage.FINAL])
def test_every_required_field_of_every_stage_blocks_submission(
    track: str, stage: str, lead: User, profile, case: Case
) -> None:
    """Every stage × track: each required field of the data file, left empty, refuses "mark as submitted"."""
    aware = dt.datetime.now(UTC) - dt.timedelta(hours=1)
    if track == Track.INCIDENT:
        obligation = services.open_incident(actor=lead, title="Incident", aware_at=aware)
    else:
        obligation = Obligation.objects.create(
            track=track, case=case, title="t", aware_at=aware, decision=Decision.REPORTABLE
        )
    required = required_keys(track, stage)
    assert required, "every stage requires something"
    full = dict.fromkeys(required, "filled")
    for key in required:
        values = {**full, key: ""}
        with pytest.raises(MissingFields) as exc:
            services.submit_stage(obligation=obligation, actor=lead, stage=stage, values=values)
        assert list(exc.value.errors) == [key]
    services.submit_stage(obligation=obligation, actor=lead, stage=stage, values=full)


def test_draft_customer_notice_is_an_expedited_advisory_and_publication_records_users_informed(
    obligation: Obligation, lead: User
) -> None:
    from psirt.advisories.models import Advisory
    from psirt.advisories.signals import advisory_published

    obligation = _reportable(obligation, lead)
    case = obligation.case
    assert case is not None
    for state in ("acknowledged", "triage", "confirmed"):
        case = case_services.transition(case=case, to_state=state, actor=lead)
    advisory = services.draft_customer_notice(obligation=obligation, actor=lead)
    assert advisory.expedite_justification.startswith("Actively exploited")
    assert advisory.state == "draft"
    assert list(Advisory.objects.filter(case_links__case=case)) == [advisory]
    drafted = obligation.filings.get(kind=FilingKind.NOTICE_DRAFTED)
    assert drafted.reference == advisory.advisory_id
    # Again: the same open advisory, not a second one.
    assert services.draft_customer_notice(obligation=obligation, actor=lead) == advisory
    assert Advisory.objects.filter(case_links__case=case).count() == 1
    # Its publication records that users were informed, and how.
    advisory_published.send(sender=Advisory, advisory=advisory, revision=1, actor=lead, request=None)
    informed = obligation.filings.get(kind=FilingKind.USERS_INFORMED)
    assert informed.reference == advisory.advisory_id
    with translation.override("en"):
        assert (
            informed.note_text()
            == f"Advisory {advisory.advisory_id} published (public page, CSAF, subscribers notified)."
        )
        assert drafted.note_text().startswith(f"Expedited advisory {advisory.advisory_id} drafted")
    with translation.override("zh-hans"):
        assert informed.note_text() == f"通告 {advisory.advisory_id} 已发布（公开页面、CSAF、已通知订阅者）。"
        assert drafted.note_text().startswith(f"已起草加急通告 {advisory.advisory_id}")
    advisory_published.send(sender=Advisory, advisory=advisory, revision=2, actor=lead, request=None)
    assert obligation.filings.filter(kind=FilingKind.USERS_INFORMED).count() == 1


def test_an_unconfirmed_case_cannot_get_its_notice_drafted(obligation: Obligation, lead: User) -> None:
    obligation = _reportable(obligation, lead)
    with pytest.raises(InvalidInput, match="not confirmed"):
        services.draft_customer_notice(obligation=obligation, actor=lead)
    assert not obligation.filings.exists()

"""The case file: the complete, ordered story of one case for an auditor or a market-surveillance authority.

`build` gathers, for staff allowed to read everything of the case (`may_read_case_file`):
* the reports as received (decrypted: the text as the desk reads it, the reporter's contact details, the files),
* the state changes (who, when, why), the messages with the reporter, the advisory revisions,
* the sections other apps register (`psirt.metrics.registry`, e.g. the regulatory filings),
* and the audit trail: every other audit event about the case, its reports and its advisories (scores and
  their changes, publication decisions, expedite justifications and approvals, notifications queued…), in chain
  order. An event already stamped on an entry of a section above is not repeated, so each appears once.

Each entry carries the sequence number and hash of its audit event, so a reader can check it against the chain
with `psirt audit verify` (which recomputes every hash with the audit key). An entry from a table (a state change,
a message) is matched to the event its service recorded in the same transaction: same target, the expected
action, the nearest instant within `MATCH_WINDOW`.

`render_pdf` lays it out with WeasyPrint (imported lazily: it takes about a second to import); `render_zip` packs
the PDF, each report as received (text), the decrypted attachments and a JSON of every entry.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from psirt.accounts.access import active_account
from psirt.accounts.models import User
from psirt.advisories.models import Advisory, Revision
from psirt.audit.models import AuditEvent
from psirt.audit.services import deny_access, record
from psirt.cases.access import get_case_for
from psirt.cases.models import Case, StateChange
from psirt.intake.models import Attachment, AuthorKind, Message, Report
from psirt.intake.services.desk import description_for_staff
from psirt.lib.crypto import file_store
from psirt.metrics.registry import CASE_FILE_SECTIONS

MATCH_WINDOW = dt.timedelta(seconds=5)
# Reading a confidential page is itself audited; those events say who looked, not what happened to the case.
QUIET_ACTIONS = (".viewed", ".file_downloaded")
# Largest attachment put into the archive; bigger ones are listed with their size and left to the desk.
MAX_ATTACHMENT_BYTES = 50 * 1024 * 1024


@dataclass
class Entry:
    """One fact of the case file, with the audit event that recorded it (seq and hash; empty when none)."""

    at: dt.datetime | None
    title: str
    actor: str = ""
    text: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    audit_seq: int | None = None
    audit_hash: str = ""

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["at"] = self.at.isoformat() if self.at else None
        return data


@dataclass
class Section:
    name: str
    title: str
    entries: list[Entry]
    note: str = ""


@dataclass
class CaseFile:
    case: Case
    generated_at: dt.datetime
    generated_by: str
    facts: list[tuple[str, str]]
    sections: list[Section]
    reports: list[Report]
    attachments: list[Attachment]

    @property
    def entry_count(self) -> int:
        return sum(len(s.entries) for s in self.sections)


# --- who may read it --------------------------------------------------------------------------------------------


def may_read_case_file(user: User, case: Case) -> bool:
    """Leads, and the handlers who see the case. Product engineers do not: the file holds the reporters'
    identities and the team's internal record, beyond what a lead may share with them case by case."""
    account = active_account(user)
    return account is not None and not account.is_engineer


def get_case_file_case(user: User, public_id: object, *, request: HttpRequest | None = None) -> Case:
    """The case for its file, or 404 (audited refusal) to anyone without need-to-know or not allowed the file."""
    case = get_case_for(user, public_id, request=request)
    if not may_read_case_file(user, case):
        deny_access(user=user, target=case, request=request)
    return case


# --- gathering --------------------------------------------------------------------------------------------------


class _Events:
    """The case's audit events, matched at most once each to a row of a table."""

    def __init__(self, events: Iterable[AuditEvent]) -> None:
        self.events = list(events)
        self.used: set[int] = set()

    def match(self, *, target_id: str, actions: Sequence[str], at: dt.datetime) -> AuditEvent | None:
        best: AuditEvent | None = None
        for event in self.events:
            if event.pk in self.used or event.target_id != target_id or event.action not in actions:
                continue
            gap = abs(event.at - at)
            if gap <= MATCH_WINDOW and (best is None or gap < abs(best.at - at)):
                best = event
        if best is not None:
            self.used.add(best.pk)
        return best


def _stamp(entry: Entry, event: AuditEvent | None) -> Entry:
    if event is not None:
        entry.audit_seq = int(event.seq)
        entry.audit_hash = event.hash
    return entry


def _person(user: User | None) -> str:
    return (user.name or user.email) if user is not None else ""


def build(case: Case, user: User) -> CaseFile:
    """Everything of the case, ordered; a bounded number of queries whatever the number of events."""
    reports = list(Report.objects.filter(case_link__case=case).select_related("product").order_by("created_at", "id"))
    advisories = list(Advisory.objects.filter(cases=case).distinct().order_by("created_at", "id"))
    ids = [str(case.public_id), *(str(r.public_id) for r in reports), *(str(a.public_id) for a in advisories)]
    ids += [a.advisory_id for a in advisories]
    events = _Events(AuditEvent.objects.filter(target_id__in=ids).select_related("actor").order_by("seq"))
    state_labels = dict(Case._meta.get_field("state").choices or [])  # type: ignore[misc]

    received: list[Entry] = []
    for report in reports:
        body = description_for_staff(report)
        text = body.text + (f"\n\n[{body.note}]" if body.note else "")
        entry = Entry(
            at=report.created_at,
            title=_("Report %(id)s as received") % {"id": report.tracking_id},
            actor=report.reporter_name,
            text=text,
            details={
                _("Received via"): report.get_source_display(),
                _("Reporter"): f"{report.reporter_name} <{report.reporter_email}>",
                _("Organization"): report.organization,
                _("Phone"): report.phone,
                _("Product"): report.product_label,
                _("Firmware version"): report.version,
                _("Technical details"): report.technical_details,
                _("Public exploit information"): report.public_exploit,
                _("Disclosure plans"): report.disclosure_plans,
                _("Proposed disclosure date"): report.proposed_disclosure_date.isoformat()
                if report.proposed_disclosure_date
                else "",
                _("Language"): report.language,
            },
        )
        entry.details = {k: v for k, v in entry.details.items() if v}
        received.append(
            _stamp(
                entry, events.match(target_id=str(report.public_id), actions=["report.submitted"], at=report.created_at)
            )
        )

    changes: list[Entry] = []
    for change in StateChange.objects.filter(case=case).select_related("actor").order_by("at", "id"):
        entry = Entry(
            at=change.at,
            title=f"{state_labels.get(change.from_state, '—') if change.from_state else '—'} → "
            f"{state_labels.get(change.to_state, change.to_state)}",
            actor=_person(change.actor),
            text=change.reason,
        )
        actions = ["case.opened"] if not change.from_state else ["case.transition", "case.reopened"]
        changes.append(_stamp(entry, events.match(target_id=str(case.public_id), actions=actions, at=change.at)))

    conversation: list[Entry] = []
    messages = (
        Message.objects.filter(report__in=reports, is_internal=False)
        .select_related("report", "author")
        .order_by("created_at", "id")
    )
    for message in messages:
        by_reporter = message.author_kind == AuthorKind.REPORTER
        entry = Entry(
            at=message.created_at,
            title=(_("From the reporter") if by_reporter else _("To the reporter"))
            + f" ({message.report.tracking_id})",
            actor=message.report.reporter_name if by_reporter else _person(message.author),
            text=message.body,
        )
        action = "report.reporter_message" if by_reporter else "report.team_message"
        conversation.append(
            _stamp(
                entry, events.match(target_id=str(message.report.public_id), actions=[action], at=message.created_at)
            )
        )

    revisions: list[Entry] = []
    for revision in Revision.objects.filter(advisory__in=advisories).select_related("advisory", "actor"):
        entry = Entry(
            at=revision.date,
            title=_("%(advisory)s revision %(number)s")
            % {"advisory": revision.advisory.advisory_id, "number": revision.number},
            actor=_person(revision.actor),
            text=revision.summary_en + (f"\n{revision.summary_zh}" if revision.summary_zh else ""),
        )
        actions = ["advisory.published"] if revision.number == 1 else ["advisory.revised", "advisory.published"]
        revisions.append(
            _stamp(entry, events.match(target_id=str(revision.advisory.public_id), actions=actions, at=revision.date))
        )
    revisions.sort(key=lambda e: e.at or timezone.now())

    trail = [
        Entry(
            at=event.at,
            title=event.action,
            actor=event.actor_label,
            details={str(k): _plain(v) for k, v in (event.data or {}).items()},
            audit_seq=int(event.seq),
            audit_hash=event.hash,
        )
        for event in events.events
        # An event already stamped on an entry above is not repeated: each event appears once in the file.
        if event.pk not in events.used and not event.action.endswith(QUIET_ACTIONS)
    ]
    for advisory in advisories:
        if advisory.expedite_justification:
            trail.append(
                Entry(
                    at=None,
                    title=_("Expedite justification of %(advisory)s") % {"advisory": advisory.advisory_id},
                    text=advisory.expedite_justification,
                )
            )

    sections = [
        Section("reports", _("Reports as received"), received),
        Section("states", _("State changes"), changes),
        Section("conversation", _("Messages with the reporter"), conversation),
        Section("revisions", _("Advisory revisions"), revisions),
    ]
    for name, (title, provider) in CASE_FILE_SECTIONS.items():
        sections.append(Section(name, str(title), [e for e in provider(case, user) if isinstance(e, Entry)]))
    sections.append(
        Section(
            "audit",
            _("Audit trail (scores, decisions, notifications…)"),
            trail,
            note=_("Events already shown with an entry above are not repeated here."),
        )
    )

    facts = [
        (_("Case"), case.key),
        (_("Title"), case.title),
        (_("State"), case.get_state_display()),
        (_("Severity"), case.severity_label if case.severity else "—"),
        (_("Product"), case.product.name if case.product else "—"),
        (_("CWE"), f"CWE-{case.cwe_id}" if case.cwe_id else "—"),
        (_("Exploitation"), case.get_exploitation_display()),
        (_("CVSS v3.1"), case.cvss31_vector or "—"),
        (_("CVSS v4.0"), case.cvss40_vector or "—"),
        (_("Received"), _iso(case.received_at)),
        (_("Acknowledgment due"), _iso(case.ack_due_at)),
        (_("Acknowledged"), _iso(case.acknowledged_at)),
        (_("Remediation due"), _iso(case.remediation_due_at)),
        (_("Agreed disclosure date"), case.disclosure_date.isoformat() if case.disclosure_date else "—"),
        (_("Advisories"), ", ".join(a.advisory_id for a in advisories) or "—"),
    ]
    return CaseFile(
        case=case,
        generated_at=timezone.now(),
        generated_by=_person(user),
        facts=facts,
        sections=sections,
        reports=reports,
        attachments=list(Attachment.objects.filter(report__in=reports, is_internal=False).order_by("created_at", "id")),
    )


def _plain(value: object) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True)


def _iso(value: dt.datetime | None) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M %Z") if value else "—"


# --- output -----------------------------------------------------------------------------------------------------

# For WeasyPrint only (the PDF is made on the server; the site's CSP does not apply to it).
STYLESHEET = Path(__file__).parent / "casefile.css"


def render_html(case_file: CaseFile) -> str:
    return render_to_string("metrics/casefile.html", {"f": case_file})


def render_pdf(case_file: CaseFile) -> bytes:
    """The case file as PDF (WeasyPrint; the fonts of the machine, Noto CJK for Chinese)."""
    from weasyprint import CSS, HTML

    html = HTML(string=render_html(case_file), base_url=str(settings.BASE_DIR))
    return bytes(html.write_pdf(stylesheets=[CSS(filename=str(STYLESHEET))]))


def render_json(case_file: CaseFile) -> str:
    return json.dumps(
        {
            "case": case_file.case.key,
            "generated_at": case_file.generated_at.isoformat(),
            "generated_by": case_file.generated_by,
            "facts": dict(case_file.facts),
            "sections": [
                {"name": s.name, "title": s.title, "entries": [e.as_json() for e in s.entries]}
                for s in case_file.sections
            ],
            "verify": "psirt audit verify",
        },
        ensure_ascii=False,
        indent=2,
    )


def _safe_name(name: str) -> str:
    """A file name safe inside the archive: no directories, no control characters, bounded length."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(ch if ch.isprintable() and ch not in '<>:"|?*' else "_" for ch in base).strip(". ")
    return (cleaned or "file")[:120]


def render_zip(case_file: CaseFile) -> bytes:
    """The PDF, each report as received, the decrypted attachments and the entries as JSON, in one archive."""
    key = case_file.case.key
    buffer = io.BytesIO()
    store = file_store()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{key}/{key}.pdf", render_pdf(case_file))
        archive.writestr(f"{key}/entries.json", render_json(case_file))
        for section in case_file.sections:
            if section.name != "reports":
                continue
            for report, entry in zip(case_file.reports, section.entries, strict=False):
                lines = [entry.title, ""] + [f"{k}: {v}" for k, v in entry.details.items()] + ["", entry.text]
                archive.writestr(f"{key}/reports/{report.tracking_id}.txt", "\n".join(lines))
        for n, attachment in enumerate(case_file.attachments, start=1):
            tracking = next((r.tracking_id for r in case_file.reports if r.pk == attachment.report_id), "report")
            name = f"{key}/attachments/{tracking}/{n:03d}-{_safe_name(attachment.name)}"
            if attachment.size > MAX_ATTACHMENT_BYTES:
                archive.writestr(name + ".too-large.txt", f"{attachment.size} bytes: download it from the desk.")
                continue
            with archive.open(name, "w") as out:
                for chunk in store.open(attachment.storage_name):
                    out.write(chunk)
    return buffer.getvalue()


def record_download(*, case: Case, user: User, kind: str, case_file: CaseFile, request: HttpRequest | None) -> None:
    """Audit that `user` took the case file away (which format, how many entries), before it is sent."""
    record(
        action="case.file_downloaded",
        actor=user,
        request=request,
        target=case,
        data={"format": kind, "entries": case_file.entry_count, "attachments": len(case_file.attachments)},
    )

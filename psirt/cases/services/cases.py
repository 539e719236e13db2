"""Every change to a case: keyword-only functions, audited in the same transaction.

Views, the API and the CLI call these; they check who may act, raise domain exceptions
(`psirt.cases.exceptions`) and keep the reporter's side (intake stage, deadlines) in step.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from psirt.accounts.models import User
from psirt.audit.services import record
from psirt.cases.access import can_view_case, require_case_editor
from psirt.cases.exceptions import InvalidInput, NotAllowed, ReferenceTaken, TransitionNotAllowed
from psirt.cases.exploitation import align_vector
from psirt.cases.exploitation import differences as exploit_differences
from psirt.cases.models import (
    SEQUENCE_SCOPE,
    Assignment,
    Case,
    CaseInvitation,
    CaseReference,
    CaseReport,
    Exploitation,
    ReferenceKind,
    ReporterContactShare,
    StateChange,
)
from psirt.cases.services import workflow
from psirt.cases.services.deadlines import remediation_days_for, rescore_deadline
from psirt.cases.services.message_templates import render as render_template
from psirt.cases.services.workflow import CaseState
from psirt.catalog.models import Product
from psirt.counters.services.sequences import next_in_year
from psirt.intake.models import InboxState, Report, Stage
from psirt.intake.services import mark_taken, post_team_message, set_agreed_disclosure_date, set_stage
from psirt.lib.access import require_lead
from psirt.lib.cvss import CvssError, CvssResult, decisive_rating, score_vector
from psirt.lib.cwe import lookup as lookup_cwe
from psirt.lib.references import InvalidReference, classify_identifier, normalise_advisory_url
from psirt.organization.queries import acknowledgment_due

MAX_TITLE = 200
MAX_REASON = 2000


# --- helpers ----------------------------------------------------------------------------------------------


def format_case_key(year: int, number: int) -> str:
    return f"CASE-{year}-{number:04d}"


def next_case_number(year: int) -> int:
    """Next case number of `year` (see psirt.counters.services.sequences)."""
    return next_in_year(SEQUENCE_SCOPE, year)


def _clean_title(title: str) -> str:
    text = " ".join((title or "").split())
    if not text:
        raise InvalidInput(_("Give the case a short title."))
    if "\x00" in text:
        raise InvalidInput(_("The title contains a null character; remove it."))
    if len(text) > MAX_TITLE:
        raise InvalidInput(_("The title is too long (at most %(n)d characters).") % {"n": MAX_TITLE})
    return text


def _clean_reason(reason: str) -> str:
    text = (reason or "").strip()
    if "\x00" in text:
        raise InvalidInput(_("The reason contains a null character; remove it."))
    if len(text) > MAX_REASON:
        raise InvalidInput(_("The reason is too long (at most %(n)d characters).") % {"n": MAX_REASON})
    return text


# --- opening cases ----------------------------------------------------------------------------------------


def open_case(
    *,
    report: Report,
    actor: User,
    title: str,
    assignees: list[User] | tuple[User, ...] = (),
    request: HttpRequest | None = None,
) -> Case:
    """A lead opens a case from a report in the inbox; the report leaves the inbox.

    The case inherits the report's product (and its line), its receipt time and acknowledgment deadline.
    """
    require_lead(actor, NotAllowed)
    clean_title = _clean_title(title)
    with transaction.atomic():
        report = Report.objects.select_for_update().get(pk=report.pk)
        if report.inbox_state != InboxState.NEW or CaseReport.objects.filter(report=report).exists():
            raise InvalidInput(_("This report is already in a case."))
        case = _new_case(
            title=clean_title,
            product=report.product,
            received_at=report.created_at,
            ack_due_at=report.ack_due_at or acknowledgment_due(report.created_at),
            actor=actor,
        )
        CaseReport.objects.create(case=case, report=report, added_by=actor)
        StateChange.objects.create(case=case, from_state="", to_state=CaseState.NEW, actor=actor)
        record(
            action="case.opened",
            actor=actor,
            request=request,
            target=case,
            data={"report": report.tracking_id},
        )
        mark_taken(report=report, actor=actor, request=request)
        for user in assignees:
            _assign(case=case, user=user, actor=actor, request=request)
    return case


def _new_case(
    *, title: str, product: Product | None, received_at: dt.datetime, ack_due_at: dt.datetime | None, actor: User
) -> Case:
    """Number and create a case (inside the caller's transaction): its key from this year's counter, its line from
    its product."""
    year = timezone.localtime(timezone.now()).year
    number = next_case_number(year)
    return Case.objects.create(
        key=format_case_key(year, number),
        year=year,
        number=number,
        title=title,
        product=product,
        product_line=product.line if product is not None else None,
        received_at=received_at,
        ack_due_at=ack_due_at,
        created_by=actor,
    )


def open_team_case(
    *,
    title: str,
    actor: User,
    product: Product | None = None,
    source: str,
    request: HttpRequest | None = None,
) -> Case:
    """A case the team opens itself, with no report behind it: for example the fix of a vulnerability in a
    third-party component that released firmware contains (`source` says where it came from, for the audit log).
    It starts new, received now, without an acknowledgment deadline (there is no reporter to acknowledge). Leads
    and handlers may open one; a handler who does is assigned, so the case is within their need-to-know."""
    if not actor.is_active or not (actor.is_lead or actor.is_handler):
        raise NotAllowed(_("Only leads and handlers can open a case."))
    clean_title = _clean_title(title)
    with transaction.atomic():
        case = _new_case(title=clean_title, product=product, received_at=timezone.now(), ack_due_at=None, actor=actor)
        StateChange.objects.create(case=case, from_state="", to_state=CaseState.NEW, actor=actor)
        record(action="case.opened", actor=actor, request=request, target=case, data={"source": source[:100]})
        if not actor.is_lead:
            _assign(case=case, user=actor, actor=actor, request=request)
    return case


def attach_duplicate(*, report: Report, case: Case, actor: User, request: HttpRequest | None = None) -> CaseReport:
    """Attach an inbox report to an existing case as a duplicate.

    Its reporter is told kindly, in their language, in one message (stage "duplicate" + a note saying the
    issue is known). If their report reached us before every report already in the case, they were first:
    the link is marked `credited` (the advisory thanks them) and the message says so.
    """
    require_lead(actor, NotAllowed)
    with transaction.atomic():
        report = Report.objects.select_for_update().get(pk=report.pk)
        if report.inbox_state != InboxState.NEW or CaseReport.objects.filter(report=report).exists():
            raise InvalidInput(_("This report is already in a case."))
        earlier = CaseReport.objects.filter(case=case, report__created_at__lte=report.created_at).exists()
        first = not earlier
        link = CaseReport.objects.create(case=case, report=report, is_duplicate=True, credited=first, added_by=actor)
        record(
            action="case.duplicate_attached",
            actor=actor,
            request=request,
            target=case,
            data={"report": report.tracking_id, "credited": first},
        )
        mark_taken(report=report, actor=actor, request=request)
        # One mail: the stage moves quietly and the kind message carries the news.
        set_stage(report=report, stage=Stage.DUPLICATE, actor=actor, request=request, notify=False)
        post_team_message(
            report=report,
            author=actor,
            body=render_template("duplicate", report=report, credit=first),
            request=request,
        )
    return link


# --- workflow ---------------------------------------------------------------------------------------------


def transition(
    *,
    case: Case,
    to_state: str,
    actor: User,
    reason: str = "",
    duplicate_of: Case | None = None,
    request: HttpRequest | None = None,
) -> Case:
    """Move a case along the workflow (only the allowed transitions), record who/when/why, stamp deadlines
    and move the reporters' stage (which writes to them)."""
    require_case_editor(actor, case)
    clean_reason = _clean_reason(reason)
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case.pk)
        source = case.state
        if to_state not in CaseState.values or not workflow.is_allowed(source, to_state):
            raise TransitionNotAllowed(
                _("A case cannot go from “%(from)s” to “%(to)s”.")
                % {"from": CaseState(source).label, "to": _label(to_state)}
            )
        if workflow.needs_reason(source, to_state) and not clean_reason:
            raise TransitionNotAllowed(_("Say why: this change needs a reason."))
        fields = ["state", "updated_at"]
        now = timezone.now()
        if to_state == CaseState.DUPLICATE:
            if duplicate_of is None or duplicate_of.pk == case.pk:
                raise InvalidInput(_("Choose the case this one duplicates."))
            if not can_view_case(actor, duplicate_of):
                raise InvalidInput(_("Choose the case this one duplicates."))
            case.duplicate_of = duplicate_of
            fields.append("duplicate_of")
        if to_state == CaseState.ACKNOWLEDGED and case.acknowledged_at is None:
            case.acknowledged_at = now
            fields.append("acknowledged_at")
        if to_state == CaseState.CONFIRMED and case.confirmed_at is None:
            case.confirmed_at = now
            case.remediation_due_at = now + dt.timedelta(days=remediation_days_for(case.severity))
            fields += ["confirmed_at", "remediation_due_at"]
        if to_state in workflow.FINISHED:
            case.closed_at = now
            fields.append("closed_at")
        elif source in workflow.FINISHED:
            case.closed_at = None
            fields.append("closed_at")
        case.state = to_state
        case.save(update_fields=fields)
        StateChange.objects.create(case=case, from_state=source, to_state=to_state, actor=actor, reason=clean_reason)
        record(
            action="case.reopened" if workflow.is_reopening(source, to_state) else "case.transition",
            actor=actor,
            request=request,
            target=case,
            data={"from": source, "to": to_state},
        )
        _sync_reports(case=case, actor=actor, request=request)
    return case


def _label(state: str) -> str:
    try:
        return str(CaseState(state).label)
    except ValueError:
        return state[:40]


def _sync_reports(*, case: Case, actor: User, request: HttpRequest | None) -> None:
    """The case's own (non-duplicate) reports show the matching stage and deadline in the reporter portal."""
    stage = workflow.REPORTER_STAGE[case.state]
    for link in case.case_reports.filter(is_duplicate=False).select_related("report"):
        report = link.report
        if report.remediation_due_at != case.remediation_due_at:
            type(report).objects.filter(pk=report.pk).update(remediation_due_at=case.remediation_due_at)
            report.remediation_due_at = case.remediation_due_at
        set_stage(report=report, stage=stage, actor=actor, request=request)


# --- people -----------------------------------------------------------------------------------------------


def assign(*, case: Case, user: User, actor: User, request: HttpRequest | None = None) -> None:
    """A lead assigns a handler (or lead) to a case."""
    require_lead(actor, NotAllowed)
    with transaction.atomic():
        _assign(case=case, user=user, actor=actor, request=request)


def _assign(*, case: Case, user: User, actor: User, request: HttpRequest | None) -> None:
    if not user.is_active or user.is_engineer:
        raise InvalidInput(_("Only active handlers and leads can be assigned; invite product engineers instead."))
    _obj, created = Assignment.objects.get_or_create(case=case, user=user, defaults={"assigned_by": actor})
    if created:
        record(action="case.assigned", actor=actor, request=request, target=case, data={"user": str(user.public_id)})


def unassign(*, case: Case, user: User, actor: User, request: HttpRequest | None = None) -> None:
    require_lead(actor, NotAllowed)
    with transaction.atomic():
        if Assignment.objects.filter(case=case, user=user).delete()[0]:
            record(
                action="case.unassigned", actor=actor, request=request, target=case, data={"user": str(user.public_id)}
            )


def invite_engineer(*, case: Case, engineer: User, actor: User, request: HttpRequest | None = None) -> None:
    """Give a product engineer need-to-know of one case."""
    require_case_editor(actor, case)
    if not engineer.is_engineer or not engineer.is_active:
        raise InvalidInput(_("Only active product engineers can be invited."))
    with transaction.atomic():
        _obj, created = CaseInvitation.objects.get_or_create(
            case=case, engineer=engineer, defaults={"invited_by": actor}
        )
        if created:
            record(
                action="case.engineer_invited",
                actor=actor,
                request=request,
                target=case,
                data={"user": str(engineer.public_id)},
            )


def revoke_invitation(*, case: Case, engineer: User, actor: User, request: HttpRequest | None = None) -> None:
    require_case_editor(actor, case)
    with transaction.atomic():
        if CaseInvitation.objects.filter(case=case, engineer=engineer).delete()[0]:
            record(
                action="case.engineer_uninvited",
                actor=actor,
                request=request,
                target=case,
                data={"user": str(engineer.public_id)},
            )


def _set_share(*, case: Case, what: str, shared: bool, actor: User, request: HttpRequest | None) -> None:
    """Set one of the case's share decisions (`contacts` or `notes`) on its one share row; audited when it
    changes, nothing when it does not. The row goes when nothing is shared any more."""
    require_lead(actor, NotAllowed)
    with transaction.atomic():
        row = ReporterContactShare.objects.select_for_update().filter(case=case).first()
        current = bool(row is not None and getattr(row, what))
        if current == shared:
            return
        if row is None:
            row = ReporterContactShare(case=case, contacts=False, notes=False)
        setattr(row, what, shared)
        row.shared_by = actor
        row.shared_at = timezone.now()
        if row.contacts or row.notes:
            row.save()
        else:
            row.delete()
        record(
            action=f"case.{what}_shared" if shared else f"case.{what}_unshared",
            actor=actor,
            request=request,
            target=case,
        )


def share_reporter_contacts(*, case: Case, actor: User, request: HttpRequest | None = None) -> None:
    """A lead shows the reporters' names, addresses and phone numbers of this case to the product engineers
    who see it. Recorded (who, when) and audited; sharing again changes nothing."""
    _set_share(case=case, what="contacts", shared=True, actor=actor, request=request)


def revoke_reporter_contacts(*, case: Case, actor: User, request: HttpRequest | None = None) -> None:
    """A lead takes the reporters' contact details of this case back from its product engineers. Audited."""
    _set_share(case=case, what="contacts", shared=False, actor=actor, request=request)


def share_internal_notes(*, case: Case, actor: User, request: HttpRequest | None = None) -> None:
    """A lead lets the product engineers who see this case read the team's internal notes (and their files).
    Audited; sharing again changes nothing."""
    _set_share(case=case, what="notes", shared=True, actor=actor, request=request)


def revoke_internal_notes(*, case: Case, actor: User, request: HttpRequest | None = None) -> None:
    """A lead hides the internal notes of this case from its product engineers again. Audited."""
    _set_share(case=case, what="notes", shared=False, actor=actor, request=request)


# --- risk evaluation --------------------------------------------------------------------------------------


def set_cvss(*, case: Case, vector: str, actor: User, request: HttpRequest | None = None) -> Case:
    """Score a CVSS v3.1 or v4.0 vector and store it (normalised) with its scores. The case's severity is
    recomputed from both vectors by the one severity rule (`decisive_rating`), and the remediation deadline
    follows it. InvalidInput names the offending metric."""
    require_case_editor(actor, case)
    try:
        result = score_vector(vector)
    except CvssError as exc:
        raise InvalidInput(exc.message) from exc
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case.pk)
        _store_scores(case, result)
        case.severity = case_severity(case)
        case.save()
        rescore_deadline(case)
        data: dict[str, object] = {"version": result.version, "vector": result.vector, "severity": case.severity}
        contradictions = exploit_differences(case.exploitation, case.cvss31_vector, case.cvss40_vector)
        if contradictions:
            # Accepted as given, but the audit trail says it contradicted the recorded exploitation.
            data["contradicts_exploitation"] = case.exploitation
        record(action="case.scored", actor=actor, request=request, target=case, data=data)
    return case


def _store_scores(case: Case, result: CvssResult) -> None:
    """Put one vector's normalised form and scores on the case (not saved)."""
    if result.version == "3.1":
        case.cvss31_vector = result.vector
        case.cvss31_base = Decimal(str(result.base))
        case.cvss31_temporal = Decimal(str(result.temporal))
        case.cvss31_environmental = Decimal(str(result.environmental))
    else:
        case.cvss40_vector = result.vector
        case.cvss40_base = Decimal(str(result.base))
        case.cvss40_threat = Decimal(str(result.threat))
        case.cvss40_environmental = Decimal(str(result.environmental))


def case_severity(case: Case) -> str:
    """The severity a case states: the FIRST rating of its decisive score (`psirt.lib.cvss.decisive_rating`),
    "" while it has no vector. A stored vector that no longer parses (validation only ever got stricter) keeps
    the severity the case has until a handler re-scores it."""
    try:
        rating = decisive_rating(case.cvss31_vector, case.cvss40_vector)
    except CvssError:
        return case.severity
    return rating.severity if rating else ""


def set_cwe(*, case: Case, cwe: int | str | None, actor: User, request: HttpRequest | None = None) -> Case:
    """Set (or clear, with None/"") the case's CWE; only entries of the CWE list are accepted."""
    require_case_editor(actor, case)
    number: int | None = None
    if cwe not in (None, ""):
        entry = lookup_cwe(cwe)
        if entry is None:
            raise InvalidInput(_("Choose a weakness from the CWE list, by number (CWE-79) or by name."))
        number = entry.id
    with transaction.atomic():
        Case.objects.filter(pk=case.pk).update(cwe_id=number, updated_at=timezone.now())
        case.cwe_id = number
        record(action="case.cwe_set", actor=actor, request=request, target=case, data={"cwe": number})
    return case


def set_exploitation(
    *,
    case: Case,
    status: str,
    actor: User,
    aware_at: dt.datetime | None = None,
    request: HttpRequest | None = None,
) -> Case:
    """Record the exploitation status; for proof of concept / active exploitation, when the team became
    aware (default now; never in the future — CRA clocks start there). The vectors' Exploit Maturity (E) is
    made to agree (`psirt.cases.exploitation.align_vector`): re-scored, with the severity and the remediation
    deadline following, and the audit entry names each vector before and after."""
    require_case_editor(actor, case)
    if status not in Exploitation.values:
        raise InvalidInput(_("Choose none, proof of concept or actively exploited."))
    now = timezone.now()
    if status == Exploitation.NONE:
        aware_at = None
    else:
        aware_at = aware_at or now
        if timezone.is_naive(aware_at):
            raise InvalidInput(_("Give the time with its time zone."))
        if aware_at > now + dt.timedelta(minutes=5):
            raise InvalidInput(_("The team cannot become aware in the future."))
    with transaction.atomic():
        locked = Case.objects.select_for_update().get(pk=case.pk)
        locked.exploitation, locked.exploitation_aware_at = status, aware_at
        rescored: dict[str, dict[str, str]] = {}
        for old in (locked.cvss31_vector, locked.cvss40_vector):
            try:
                new = align_vector(old, status)
            except CvssError:
                continue  # a stored vector that no longer parses is left for a handler to re-score
            if new and new != old:
                result = score_vector(new)
                _store_scores(locked, result)
                rescored[result.version] = {"from": old, "to": new}
        previous_severity = locked.severity
        locked.severity = case_severity(locked)
        locked.save()
        if locked.severity != previous_severity:
            rescore_deadline(locked)
        data: dict[str, object] = {"status": status, "aware_at": aware_at.isoformat() if aware_at else None}
        if rescored:
            data["vectors"] = rescored
            data["severity"] = locked.severity
        record(action="case.exploitation_set", actor=actor, request=request, target=locked, data=data)
    for name in ("exploitation", "exploitation_aware_at", "severity", "remediation_due_at", *_SCORE_FIELDS):
        setattr(case, name, getattr(locked, name))  # callers holding the case see what was recorded
    return case


_SCORE_FIELDS = (
    *("cvss31_vector", "cvss31_base", "cvss31_temporal", "cvss31_environmental"),
    *("cvss40_vector", "cvss40_base", "cvss40_threat", "cvss40_environmental"),
)


# --- references -------------------------------------------------------------------------------------------


def add_reference(*, case: Case, value: str, actor: User, request: HttpRequest | None = None) -> CaseReference:
    """Add a CVE / CNVD / CNNVD / EUVD ID (recognised by its prefix, unique across cases) or an advisory link."""
    require_case_editor(actor, case)
    text = (value or "").strip()
    try:
        if text.lower().startswith(("http://", "https://")):
            kind, normal = ReferenceKind.URL.value, normalise_advisory_url(text)
        else:
            kind, normal = classify_identifier(text)
    except InvalidReference as exc:
        raise InvalidInput(exc.message) from exc
    other = CaseReference.objects.filter(kind=kind, value=normal).select_related("case").first()
    if other is not None and (kind != ReferenceKind.URL or other.case_id == case.pk):
        if other.case_id == case.pk:
            raise ReferenceTaken(_("This case already has %(value)s.") % {"value": normal})
        # Name the other case only to someone who may see it; otherwise its existence stays unknown.
        if can_view_case(actor, other.case):
            raise ReferenceTaken(_("%(value)s already belongs to %(case)s.") % {"value": normal, "case": other.case})
        raise ReferenceTaken(_("%(value)s already belongs to another case.") % {"value": normal})
    try:
        with transaction.atomic():
            ref = CaseReference.objects.create(case=case, kind=kind, value=normal, added_by=actor)
            record(
                action="case.reference_added",
                actor=actor,
                request=request,
                target=case,
                data={"kind": kind, "value": normal[:200]},
            )
    except IntegrityError as exc:
        # Another request took it between the check and the insert.
        raise ReferenceTaken(_("%(value)s already belongs to another case.") % {"value": normal}) from exc
    return ref


def remove_reference(*, reference: CaseReference, actor: User, request: HttpRequest | None = None) -> None:
    require_case_editor(actor, reference.case)
    with transaction.atomic():
        record(
            action="case.reference_removed",
            actor=actor,
            request=request,
            target=reference.case,
            data={"kind": reference.kind, "value": reference.value[:200]},
        )
        reference.delete()


# --- disclosure -------------------------------------------------------------------------------------------


def set_disclosure_date(*, case: Case, date: dt.date | None, actor: User, request: HttpRequest | None = None) -> Case:
    """Record the disclosure date agreed with the reporter(s) (or clear it); their portals show it and they
    are told by mail (through the intake)."""
    require_case_editor(actor, case)
    if date is not None and (not isinstance(date, dt.date) or not 2000 <= date.year <= 2200):
        raise InvalidInput(_("Enter a real date (YYYY-MM-DD)."))
    with transaction.atomic():
        Case.objects.filter(pk=case.pk).update(disclosure_date=date, updated_at=timezone.now())
        case.disclosure_date = date
        record(
            action="case.disclosure_date_set",
            actor=actor,
            request=request,
            target=case,
            data={"date": date.isoformat() if date else None},
        )
        for link in case.case_reports.filter(is_duplicate=False).select_related("report"):
            if link.report.agreed_disclosure_date != date:
                set_agreed_disclosure_date(report=link.report, date=date, actor=actor, request=request)
    return case

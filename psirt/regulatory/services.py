"""Every change of regulatory reporting: keyword-only, checked and refused with domain exceptions, audited in the
same transaction. Filings are only ever added (see `psirt.regulatory.models.Filing`)."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from psirt.accounts.access import Viewer, active_account
from psirt.accounts.models import User
from psirt.advisories.exceptions import AdvisoryError
from psirt.advisories.models import Advisory, AdvisoryState
from psirt.advisories.services import create_advisory, set_expedite_justification
from psirt.audit.services import record
from psirt.cases.models import Case, CaseReference, Exploitation, ReferenceKind
from psirt.lib.crypto import file_store
from psirt.notify.services import AdvisoryNotice, affected_contacts, notify_customers
from psirt.organization.models import OrganizationProfile
from psirt.regulatory.access import can_see_obligation, require_lead
from psirt.regulatory.clocks import STAGES_OF, Clock, IntermediateRequest, Stage, Track, Triggers, clocks
from psirt.regulatory.data import (
    MIIT_FIELD_LABELS,
    MIIT_FIELDS_VERSION,
    member_state,
    required_keys,
    srp_version,
)
from psirt.regulatory.exceptions import Conflict, InvalidInput, MissingFields, NotAllowed
from psirt.regulatory.models import (
    Decision,
    EvidenceFile,
    Filing,
    FilingKind,
    NoteCode,
    Obligation,
)
from psirt.regulatory.prefill import direct_notice_text, measure_available_suggestion, miit_text, stage_values

MAX_TEXT = 20_000
MAX_REFERENCE = 120
MAX_EVIDENCE_FILES = 10
MAX_EVIDENCE_BYTES = 20 * 1024 * 1024
# Farther than this from now, a date typed on the desk is a typo (a year of 20266), not a fact.
MAX_DATE_DISTANCE = dt.timedelta(days=3660)


# --- reading the triggers (one place) --------------------------------------------------------------------


def triggers_of(obligation: Obligation, filings: Iterable[Filing] | None = None) -> Triggers:
    """The facts the clocks of `obligation` start from: awareness, the measure, the first submission of each
    stage, and the CSIRT's requests with their answers."""
    rows = list(filings) if filings is not None else list(obligation.filings.all())
    submitted: dict[str, dt.datetime] = {}
    for f in rows:
        if f.kind == FilingKind.SUBMISSION and f.stage and f.stage != Stage.INTERMEDIATE:
            submitted.setdefault(f.stage, f.submitted_at)
    requests = []
    for f in rows:
        if f.kind == FilingKind.CSIRT_REQUEST and f.due_at is not None:
            answer = next(
                (a.submitted_at for a in rows if a.kind == FilingKind.CSIRT_ANSWER and a.answers_id == f.pk), None
            )
            requests.append(IntermediateRequest(str(f.public_id), f.submitted_at, f.due_at, answer))
    return Triggers(
        track=obligation.track,
        aware_at=obligation.aware_at,
        measure_available_at=obligation.measure_available_at,
        notification_submitted_at=submitted.get(Stage.NOTIFICATION),
        submitted=submitted,
        intermediate=requests,
        miit_working_days=bool(settings.PSIRT_MIIT_WORKING_DAYS),
    )


def obligation_clocks(obligation: Obligation, filings: Iterable[Filing] | None = None) -> list[Clock]:
    return clocks(triggers_of(obligation, filings))


# --- recognising obligations ------------------------------------------------------------------------------


def ensure_exploited_obligations(*, case: Case | None = None) -> int:
    """Open a "to decide" vulnerability obligation for every actively exploited case that has none, and keep a
    pending one's awareness time equal to the case's. Idempotent (one obligation per case and track, enforced by
    the database): the scheduler tick, the desk and the case panel (for its one `case`) may all call it.

    A query rather than a signal of the case service: exploitation can become active through the desk, the API,
    a CSAF import or the admin, and a query over the cases sees them all; the tick runs it every few minutes, so
    the reminders of a new obligation start even if nobody opens the desk."""
    created = 0
    cases = Case.objects.filter(pk=case.pk) if case is not None else Case.objects.all()
    missing = cases.filter(exploitation=Exploitation.ACTIVE, exploitation_aware_at__isnull=False).exclude(
        obligations__track=Track.VULNERABILITY
    )
    for exploited in missing:
        if exploited.exploitation_aware_at is None:  # excluded by the query; for the type checker
            continue
        try:
            with transaction.atomic():
                obligation = Obligation.objects.create(
                    track=Track.VULNERABILITY,
                    case=exploited,
                    title=exploited.title[:200],
                    aware_at=exploited.exploitation_aware_at,
                    measure_available_at=measure_available_suggestion(exploited),
                )
                record(action="regulatory.obligation.open", target=obligation, data={"track": Track.VULNERABILITY})
            created += 1
        except IntegrityError:
            continue  # another worker opened it first
    pending = Obligation.objects.filter(
        track=Track.VULNERABILITY, decision=Decision.PENDING, case__exploitation_aware_at__isnull=False
    ).select_related("case")
    if case is not None:
        pending = pending.filter(case=case)
    for obligation in pending:
        linked = obligation.case
        if linked is not None and linked.exploitation_aware_at and linked.exploitation_aware_at != obligation.aware_at:
            with transaction.atomic():
                old = obligation.aware_at
                Obligation.objects.filter(pk=obligation.pk).update(aware_at=linked.exploitation_aware_at)
                record(
                    action="regulatory.obligation.aware_changed",
                    target=obligation,
                    data={"from": old.isoformat(), "to": linked.exploitation_aware_at.isoformat()},
                )
    return created


def _clean_text(value: str, name: str, *, required: bool = False, limit: int = MAX_TEXT) -> str:
    text = (value or "").replace("\r\n", "\n").replace("\x00", "").strip()
    if required and not text:
        raise InvalidInput(_("Please fill in: %(name)s.") % {"name": name}, errors={name: [_("This is required.")]})
    if len(text) > limit:
        raise InvalidInput(
            _("%(name)s is too long (at most %(limit)s characters).") % {"name": name, "limit": limit},
            errors={name: [_("Too long.")]},
        )
    return text


def _check_instant(value: dt.datetime | None, name: str, *, now: dt.datetime) -> dt.datetime:
    if value is None:
        raise InvalidInput(_("Please give the date and time: %(name)s.") % {"name": name})
    if value.tzinfo is None:
        raise InvalidInput(_("%(name)s needs a time zone.") % {"name": name})
    if abs(value - now) > MAX_DATE_DISTANCE:
        raise InvalidInput(_("%(name)s is too far from today to be right.") % {"name": name})
    if value > now + dt.timedelta(minutes=5):
        raise InvalidInput(_("%(name)s is in the future.") % {"name": name})
    return value


def decide(
    *,
    obligation: Obligation,
    actor: User,
    reportable: bool,
    evidence: str = "",
    reason: str = "",
    files: Iterable[UploadedFile] = (),
    request: HttpRequest | None = None,
) -> Obligation:
    """A lead confirms the obligation reportable (with the evidence) or records why it is not (with the reason).
    Decided once: a later change of mind is a new decision of a lead only while nothing was filed."""
    require_lead(actor)
    evidence = _clean_text(evidence, "evidence", required=reportable)
    reason = _clean_text(reason, "reason", required=not reportable)
    uploads = list(files)
    if len(uploads) > MAX_EVIDENCE_FILES:
        raise InvalidInput(_("Attach at most %(n)s files.") % {"n": MAX_EVIDENCE_FILES})
    if sum(int(f.size or 0) for f in uploads) > MAX_EVIDENCE_BYTES:
        raise InvalidInput(_("The attachments are larger than 20 MB together."))
    stored = []
    store = file_store()
    # Files are written (encrypted, under random names) before the transaction that adds their rows: a refused
    # decision deletes them at once; a process killed in between leaves ciphertext no row names, which the
    # sweep of abandoned files removes (the evidence column is registered in `psirt.lib.stored_files`).
    try:
        for upload in uploads:
            saved = store.save(upload.chunks(), prefix="reg")
            stored.append((upload.name or "evidence", saved))
        with transaction.atomic():
            locked = Obligation.objects.select_for_update().get(pk=obligation.pk)
            if locked.filings.filter(kind=FilingKind.SUBMISSION).exists():
                raise Conflict(_("Something was already filed for this obligation: its decision can no longer change."))
            locked.decision = Decision.REPORTABLE if reportable else Decision.NOT_REPORTABLE
            locked.evidence = evidence if reportable else ""
            locked.reason = reason if not reportable else ""
            locked.decided_at = timezone.now()
            locked.decided_by = actor
            locked.save(update_fields=["decision", "evidence", "reason", "decided_at", "decided_by"])
            for name, saved in stored:
                EvidenceFile.objects.create(
                    obligation=locked,
                    filename=name[:255],
                    storage_name=saved.name,
                    size=saved.size,
                    sha256=saved.sha256,
                    added_by=actor,
                )
            record(
                action="regulatory.obligation.decide",
                actor=actor,
                request=request,
                target=locked,
                data={"decision": locked.decision, "files": len(stored)},
            )
    except BaseException:
        for _name, saved in stored:
            store.delete(saved.name)
        raise
    return locked


def open_incident(
    *, actor: User, title: str, aware_at: dt.datetime, evidence: str = "", request: HttpRequest | None = None
) -> Obligation:
    """A lead opens a severe-incident record (Art. 14(3)); it is reportable from the start."""
    require_lead(actor)
    now = timezone.now()
    title = _clean_text(title, "title", required=True, limit=200)
    aware_at = _check_instant(aware_at, "aware_at", now=now)
    with transaction.atomic():
        obligation = Obligation.objects.create(
            track=Track.INCIDENT,
            title=title,
            aware_at=aware_at,
            decision=Decision.REPORTABLE,
            evidence=_clean_text(evidence, "evidence"),
            decided_at=now,
            decided_by=actor,
            created_by=actor,
        )
        record(
            action="regulatory.obligation.open",
            actor=actor,
            request=request,
            target=obligation,
            data={"track": "incident"},
        )
    return obligation


def open_miit(
    *, actor: User, case: Case, aware_at: dt.datetime | None = None, request: HttpRequest | None = None
) -> Obligation:
    """A lead declares a case reportable to MIIT; the clock starts when the team learnt of the vulnerability
    (the case's reception unless a time is given)."""
    require_lead(actor)
    now = timezone.now()
    aware = _check_instant(aware_at or case.received_at, "aware_at", now=now)
    with transaction.atomic():
        if Obligation.objects.filter(case=case, track=Track.MIIT).exists():
            raise Conflict(_("This case already has a MIIT report obligation."))
        obligation = Obligation.objects.create(
            track=Track.MIIT,
            case=case,
            title=case.title[:200],
            aware_at=aware,
            decision=Decision.REPORTABLE,
            decided_at=now,
            decided_by=actor,
            created_by=actor,
            draft={Stage.MIIT: {"report_text": miit_text_for(case, aware)}},
        )
        record(
            action="regulatory.obligation.open", actor=actor, request=request, target=obligation, data={"track": "miit"}
        )
    return obligation


def miit_text_for(case: Case, aware: dt.datetime) -> str:
    return miit_text(Obligation(track=Track.MIIT, case=case, title=case.title[:200], aware_at=aware))


def set_measure_available(
    *, obligation: Obligation, actor: User, at: dt.datetime | None, request: HttpRequest | None = None
) -> Obligation:
    """Record when a corrective or mitigating measure became available (starts the 14-day final-report clock)."""
    _require_editor(actor, obligation)
    if obligation.track != Track.VULNERABILITY:
        raise InvalidInput(_("Only an exploited vulnerability has a measure-available time."))
    if at is not None:
        at = _check_instant(at, "measure_available_at", now=timezone.now())
        if at < obligation.aware_at - MAX_DATE_DISTANCE:
            raise InvalidInput(_("measure_available_at is too far from today to be right."))
    with transaction.atomic():
        old = obligation.measure_available_at
        Obligation.objects.filter(pk=obligation.pk).update(measure_available_at=at)
        obligation.measure_available_at = at
        record(
            action="regulatory.obligation.measure_available",
            actor=actor,
            request=request,
            target=obligation,
            data={"from": old.isoformat() if old else None, "to": at.isoformat() if at else None},
        )
    return obligation


def _require_editor(actor: Viewer, obligation: Obligation) -> None:
    account = active_account(actor)
    if account is None or not can_see_obligation(account, obligation):
        raise NotAllowed(_("Only a lead or a handler assigned to the case can change its reporting record."))


def _stage_allowed(obligation: Obligation, stage: str) -> None:
    if stage not in STAGES_OF.get(obligation.track, ()) and stage != Stage.INTERMEDIATE:
        raise InvalidInput(_("This obligation has no such stage."))
    if stage == Stage.INTERMEDIATE and obligation.track == Track.MIIT:
        raise InvalidInput(_("This obligation has no such stage."))


def _set_draft(locked: Obligation, key: str, value: Any) -> None:
    """Store `value` under `key` of the row's unfiled drafts (a stage's fields, the direct notice's text), or drop
    the key when `value` is None. The caller holds the row locked in its transaction."""
    draft = dict(locked.draft or {})
    if value is None:
        draft.pop(key, None)
    else:
        draft[key] = value
    locked.draft = draft
    locked.save(update_fields=["draft"])


def save_draft(
    *, obligation: Obligation, actor: User, stage: str, values: Mapping[str, str], request: HttpRequest | None = None
) -> Obligation:
    """Keep the values typed for a stage (nothing is filed)."""
    _require_editor(actor, obligation)
    _stage_allowed(obligation, stage)
    known = {key for key, _label, _req, _value in _stage_rows(obligation, stage)}
    clean = {k: _clean_text(str(v), k) for k, v in values.items() if k in known}
    with transaction.atomic():
        locked = Obligation.objects.select_for_update().get(pk=obligation.pk)
        _set_draft(locked, stage, {**(locked.draft or {}).get(stage, {}), **clean})
        record(
            action="regulatory.draft.save",
            actor=actor,
            request=request,
            target=locked,
            data={"stage": stage, "fields": sorted(clean)},
        )
    return locked


def _stage_rows(obligation: Obligation, stage: str) -> list[tuple[str, str, str, str]]:
    if obligation.track == Track.MIIT:
        text = (obligation.draft or {}).get(Stage.MIIT, {}).get("report_text") or miit_text(obligation)
        return [("report_text", str(MIIT_FIELD_LABELS["report_text"]), "required", text)]
    return stage_values(obligation, stage)


def coordinator() -> tuple[str, str]:
    """The Member State and coordinator CSIRT CRA reports go to (Art. 14(7)), from the organization profile."""
    profile = OrganizationProfile.get()
    state = member_state(profile.eu_member_state)
    if state is None:
        return "", ""
    return state.code, state.csirt


def submit_stage(
    *,
    obligation: Obligation,
    actor: User,
    stage: str,
    values: Mapping[str, str] | None = None,
    reference: str = "",
    submitted_at: dt.datetime | None = None,
    request: HttpRequest | None = None,
) -> Filing:
    """Mark a stage as submitted: freeze the fields as sent (the draft plus `values`, over the prefill), with
    when, by whom, to which CSIRT and the platform's reference. Refused while a required field is empty."""
    # Read the stored obligation afresh: the caller's copy may predate the decision or values typed for earlier
    # stages.
    obligation = Obligation.objects.select_related("case").get(pk=obligation.pk)
    _require_editor(actor, obligation)
    _stage_allowed(obligation, stage)
    now = timezone.now()
    when = _check_instant(submitted_at or now, "submitted_at", now=now)
    if when < obligation.aware_at - dt.timedelta(days=1):
        raise InvalidInput(_("A report cannot have been submitted before the team became aware."))
    reference = _clean_text(reference, "reference", limit=MAX_REFERENCE)
    if obligation.decision == Decision.NOT_REPORTABLE:
        raise Conflict(_("This obligation was decided not reportable: nothing is filed for it."))
    if obligation.decision == Decision.PENDING:
        raise Conflict(_("A lead must first confirm that this is reportable."))
    if values:
        save_draft(obligation=obligation, actor=actor, stage=stage, values=values, request=request)
    obligation = Obligation.objects.select_related("case").get(pk=obligation.pk)
    rows = _stage_rows(obligation, stage)
    required = set(required_keys(obligation.track, stage)) if obligation.track != Track.MIIT else {"report_text"}
    empty = [label for key, label, _r, value in rows if key in required and not value.strip()]
    if empty:
        raise MissingFields(
            _("Fill in the required fields before marking this stage as submitted: %(fields)s.")
            % {"fields": "; ".join(empty)},
            errors={
                key: [_("Required for this stage.")] for key, _l, _r, v in rows if key in required and not v.strip()
            },
        )
    if obligation.track == Track.MIIT:
        code, csirt = "CN", "MIIT NVDB"
    else:
        code, csirt = coordinator()
        if not csirt:
            raise InvalidInput(
                _(
                    "Set the EU Member State for CRA reports in the organization profile first: it decides the "
                    "coordinator CSIRT (Art. 14(7))."
                )
            )
    with transaction.atomic():
        Obligation.objects.select_for_update().filter(pk=obligation.pk).first()
        if (
            stage != Stage.INTERMEDIATE
            and Filing.objects.filter(obligation=obligation, kind=FilingKind.SUBMISSION, stage=stage).exists()
        ):
            raise Conflict(_("This stage was already submitted; record a CSIRT request or the next stage instead."))
        filing = Filing.objects.create(
            obligation=obligation,
            kind=FilingKind.SUBMISSION,
            stage=stage,
            fields=[[key, str(label), value] for key, label, _r, value in rows],
            fields_version=srp_version() if obligation.track != Track.MIIT else MIIT_FIELDS_VERSION,
            submitted_at=when,
            actor=actor,
            csirt=csirt,
            member_state=code,
            reference=reference,
        )
        record(
            action="regulatory.filing.submit",
            actor=actor,
            request=request,
            target=obligation,
            data={"stage": stage, "filing": str(filing.public_id), "csirt": csirt, "reference": reference},
        )
    return filing


def record_entry(
    *,
    obligation: Obligation,
    actor: User,
    kind: str,
    note: str = "",
    reference: str = "",
    due_at: dt.datetime | None = None,
    answers: Filing | None = None,
    submitted_at: dt.datetime | None = None,
    request: HttpRequest | None = None,
) -> Filing:
    """Append a CSIRT request (with its due date), an answer to one, that users were informed (and how), or that
    an upstream supplier was notified. `note` says what was asked, answered or sent, and how."""
    _require_editor(actor, obligation)
    if kind not in {
        FilingKind.CSIRT_REQUEST,
        FilingKind.CSIRT_ANSWER,
        FilingKind.USERS_INFORMED,
        FilingKind.SUPPLIER_NOTICE,
    }:
        raise InvalidInput(_("Unknown kind of record."))
    now = timezone.now()
    when = _check_instant(submitted_at or now, "submitted_at", now=now)
    note = _clean_text(note, "note", required=True)
    reference = _clean_text(reference, "reference", limit=MAX_REFERENCE)
    if kind == FilingKind.CSIRT_REQUEST:
        if obligation.track == Track.MIIT:
            raise InvalidInput(_("Intermediate reports are requested by an EU coordinator CSIRT only."))
        if due_at is None or due_at.tzinfo is None:
            raise InvalidInput(_("Give the due date the CSIRT set for the intermediate report."))
        if abs(due_at - now) > MAX_DATE_DISTANCE:
            raise InvalidInput(_("due_at is too far from today to be right."))
    else:
        due_at = None
    if kind == FilingKind.CSIRT_ANSWER:
        if answers is None or answers.obligation_id != obligation.pk or answers.kind != FilingKind.CSIRT_REQUEST:
            raise InvalidInput(_("Choose the CSIRT request this answers."))
    else:
        answers = None
    code, csirt = coordinator() if obligation.track != Track.MIIT else ("CN", "MIIT NVDB")
    with transaction.atomic():
        filing = Filing.objects.create(
            obligation=obligation,
            kind=kind,
            stage=Stage.INTERMEDIATE if kind in (FilingKind.CSIRT_REQUEST, FilingKind.CSIRT_ANSWER) else "",
            submitted_at=when,
            actor=actor,
            csirt=csirt if kind in (FilingKind.CSIRT_REQUEST, FilingKind.CSIRT_ANSWER) else "",
            member_state=code if kind in (FilingKind.CSIRT_REQUEST, FilingKind.CSIRT_ANSWER) else "",
            reference=reference,
            due_at=due_at,
            answers=answers,
            note=note,
        )
        record(
            action=f"regulatory.filing.{kind}",
            actor=actor,
            request=request,
            target=obligation,
            data={"filing": str(filing.public_id), "due_at": due_at.isoformat() if due_at else None},
        )
    return filing


def may_delete(obligation: Obligation, *, now: dt.datetime | None = None) -> bool:
    """Whether the retention period lets an obligation and its evidence go: never before `RETENTION_DAYS` after
    its last fact (China's 6-month minimum for vulnerability-report logs; `Obligation.retained_until`, which the
    models and the database enforce). Filings themselves are never deleted, and their rows protect the
    obligation they belong to."""
    return (now or timezone.now()) >= obligation.retained_until()


def viewed(*, obligation: Obligation, actor: Any, request: HttpRequest | None = None, what: str = "page") -> None:
    """Audit that a regulatory record was viewed or downloaded (who saw what, and when)."""
    with transaction.atomic():
        record(
            action="regulatory.obligation.view", actor=actor, request=request, target=obligation, data={"what": what}
        )


def list_viewed(*, actor: Any, request: HttpRequest | None = None) -> None:
    """Audit that the list of regulatory obligations was viewed (its titles and clocks are confidential)."""
    with transaction.atomic():
        record(action="regulatory.list.view", actor=actor, request=request)


def stage_rows(obligation: Obligation, stage: str) -> list[tuple[str, str, str, str]]:
    """The stage's (key, label, requirement, value) rows in the platform's order, as the desk shows them."""
    _stage_allowed(obligation, stage)
    return _stage_rows(obligation, stage)


# --- telling users (Art. 14(8)) ---------------------------------------------------------------------------

NOTICE_JUSTIFICATION = (
    "Actively exploited vulnerability reported under EU CRA Art. 14: users must be told of it and of the "
    "measures they can take (Art. 14(8)) without waiting for the usual disclosure conditions."
)


def draft_customer_notice(*, obligation: Obligation, actor: User, request: HttpRequest | None = None) -> Advisory:
    """Draft the notice to users as an expedited advisory of the obligation's case, through the advisory
    services: the case's open advisory if it has one, else a new draft; its expedite justification is set, so
    publication still passes the policy gate and a lead's approval. Recorded as "customer notice drafted";
    "users informed" is recorded when the advisory is published (`users_informed_by_advisory`)."""
    _require_editor(actor, obligation)
    obligation = Obligation.objects.select_related("case").get(pk=obligation.pk)
    if obligation.case is None:
        raise InvalidInput(_("A severe incident has no case to write an advisory from: record how users were told."))
    if obligation.decision != Decision.REPORTABLE:
        raise Conflict(_("A lead must first confirm that this is reportable."))
    try:
        with transaction.atomic():
            advisory = (
                Advisory.objects.filter(case_links__case=obligation.case)
                .exclude(state__in=[AdvisoryState.PUBLISHED, AdvisoryState.WITHDRAWN])
                .order_by("created_at")
                .first()
            )
            if advisory is None:
                advisory = create_advisory(cases=[obligation.case], actor=actor, request=request)
            if not advisory.expedite_justification:
                advisory = set_expedite_justification(
                    advisory=advisory, actor=actor, justification=NOTICE_JUSTIFICATION, request=request
                )
            Filing.objects.create(
                obligation=obligation,
                kind=FilingKind.NOTICE_DRAFTED,
                submitted_at=timezone.now(),
                actor=actor,
                reference=advisory.advisory_id,
                note_code=NoteCode.NOTICE_DRAFTED,
            )
            record(
                action="regulatory.filing.notice_drafted",
                actor=actor,
                request=request,
                target=obligation,
                data={"advisory": advisory.advisory_id},
            )
    except AdvisoryError as exc:
        raise InvalidInput(exc.message) from exc
    return advisory


def users_informed_by_advisory(*, advisory: Advisory, actor: User | None, revision: int) -> int:
    """Record "users informed" on each reportable obligation of the advisory's cases when it is published (the
    advisory is how they were told). Called in the publication's transaction; returns the rows added."""
    if revision != 1 or actor is None:
        return 0
    added = 0
    obligations = Obligation.objects.filter(
        case__advisory_links__advisory=advisory, decision=Decision.REPORTABLE
    ).exclude(track=Track.MIIT)
    for obligation in obligations:
        Filing.objects.create(
            obligation=obligation,
            kind=FilingKind.USERS_INFORMED,
            submitted_at=timezone.now(),
            actor=actor,
            reference=advisory.advisory_id,
            note_code=NoteCode.ADVISORY_PUBLISHED,
        )
        record(
            action="regulatory.filing.users_informed",
            actor=actor,
            target=obligation,
            data={"advisory": advisory.advisory_id},
        )
        added += 1
    return added


# --- a direct notice to the known customers (Art. 14(8)) -------------------------------------------------

# Where the notice being prepared is kept between "draft" and "send" (beside the stage drafts; never filed).
DIRECT_NOTICE_KEY = "direct_notice"
DIRECT_NOTICE_FIELDS = ("subject_en", "subject_zh", "body_en", "body_zh")
MAX_SUBJECT = 200


def affected_slugs(case: Case) -> tuple[str, ...]:
    """The catalog products the case affects (its affected ranges, else the product it was reported on)."""
    slugs = list(dict.fromkeys(case.affected.values_list("product__slug", flat=True)))
    if not slugs and case.product is not None:
        slugs = [case.product.slug]
    return tuple(slugs)


def known_customers(obligation: Obligation) -> int:
    """How many customer contacts run a product the obligation's case affects (0 without a case)."""
    if obligation.case is None:
        return 0
    slugs = affected_slugs(obligation.case)
    if not slugs:
        return 0
    return len(affected_contacts(AdvisoryNotice(id="", title_en="", product_slugs=slugs)))


def _check_direct_notice(obligation: Obligation) -> Case:
    if obligation.case is None or obligation.track == Track.MIIT:
        raise InvalidInput(_("Only an exploited vulnerability of a case has affected products to notify customers of."))
    if obligation.decision != Decision.REPORTABLE:
        raise Conflict(_("A lead must first confirm that this is reportable."))
    if known_customers(obligation) == 0:
        raise Conflict(
            _(
                "No known customer runs the affected products (%(products)s): there is nobody to notify directly. "
                "Inform users through the expedited advisory instead."
            )
            % {"products": ", ".join(affected_slugs(obligation.case)) or "—"}
        )
    return obligation.case


def direct_notice_draft(obligation: Obligation) -> dict[str, str] | None:
    """The notice being prepared, or None when none was drafted."""
    drafts = obligation.draft if isinstance(obligation.draft, dict) else {}
    saved = drafts.get(DIRECT_NOTICE_KEY)
    return {k: str(saved.get(k, "")) for k in DIRECT_NOTICE_FIELDS} if isinstance(saved, dict) else None


def _clean_notice(values: Mapping[str, str]) -> dict[str, str]:
    return {
        key: _clean_text(
            str(values.get(key, "")), key, required=True, limit=MAX_SUBJECT if "subject" in key else MAX_TEXT
        )
        for key in DIRECT_NOTICE_FIELDS
    }


def draft_direct_notice(
    *,
    obligation: Obligation,
    actor: User,
    values: Mapping[str, str] | None = None,
    request: HttpRequest | None = None,
) -> dict[str, str]:
    """Prepare the direct notice to the known customers of the affected products: prefilled in both languages
    from the obligation's facts (`psirt.regulatory.prefill.direct_notice_text`) when `values` is None, else the
    text typed. Nothing is sent: a lead reviews and sends it (`send_direct_notice`). Refused when no known
    customer runs the products — the advisory is then how users are told."""
    _require_editor(actor, obligation)
    obligation = Obligation.objects.select_related("case").get(pk=obligation.pk)
    _check_direct_notice(obligation)
    text = _clean_notice(direct_notice_text(obligation) if values is None else values)
    with transaction.atomic():
        locked = Obligation.objects.select_for_update().get(pk=obligation.pk)
        _set_draft(locked, DIRECT_NOTICE_KEY, text)
        record(
            action="regulatory.direct_notice.draft",
            actor=actor,
            request=request,
            target=locked,
            data={"prefilled": values is None},
        )
    return text


def send_direct_notice(
    *, obligation: Obligation, actor: User, values: Mapping[str, str], request: HttpRequest | None = None
) -> Filing:
    """A lead sends the reviewed notice to every contact of the customer organizations running an affected
    product, through the customer notices of `psirt.notify` (one outbox row per contact, in the contact's
    language). In the same transaction, and only once the rows are queued, the record gets "users informed"
    with how (direct notice, number of recipients, the notice's ID) and the audit chain its event."""
    require_lead(actor)
    obligation = Obligation.objects.select_related("case").get(pk=obligation.pk)
    case = _check_direct_notice(obligation)
    text = _clean_notice(values)
    notice_id = "DN-" + secrets.token_hex(5).upper()
    notice = AdvisoryNotice(
        id=notice_id,
        title_en=text["subject_en"],
        title_zh=text["subject_zh"],
        summary_en=text["body_en"],
        summary_zh=text["body_zh"],
        severity=case.severity or "",
        exploitation=case.exploitation or "",
        product_slugs=affected_slugs(case),
        cves=tuple(CaseReference.objects.filter(case=case, kind=ReferenceKind.CVE).values_list("value", flat=True)),
    )
    with transaction.atomic():
        locked = Obligation.objects.select_for_update().get(pk=obligation.pk)
        queued = notify_customers(advisory=notice, revision=1, actor=actor, direct=True, request=request)
        if queued == 0:  # the customers went away since the check: nothing was queued, so nothing is recorded
            raise Conflict(_("No known customer runs the affected products: nothing was sent."))
        filing = Filing.objects.create(
            obligation=locked,
            kind=FilingKind.USERS_INFORMED,
            submitted_at=timezone.now(),
            actor=actor,
            reference=notice_id,
            note_code=NoteCode.DIRECT_NOTICE,
            recipients=queued,
        )
        _set_draft(locked, DIRECT_NOTICE_KEY, None)
        record(
            action="regulatory.filing.users_informed",
            actor=actor,
            request=request,
            target=locked,
            data={"how": "direct_notice", "notice": notice_id, "recipients": queued},
        )
    return filing

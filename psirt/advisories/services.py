"""Every change to an advisory (SPEC B6): keyword-only functions, audited in the same transaction.

Views, the API, the CLI and the background task call these; they check who may act, raise domain exceptions
(`psirt.advisories.exceptions`) and enforce the publication policy (`psirt.advisories.policy`).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from psirt.advisories import policy
from psirt.advisories.access import can_edit_advisory
from psirt.advisories.case_facts import (
    AUTHORABLE_STATES,
    CaseFacts,
    can_author_from,
    facts_for_case,
    mark_case_published,
)
from psirt.advisories.exceptions import (
    InvalidCsafDocument,
    InvalidInput,
    NotAllowed,
    PublicationRefused,
    TransitionNotAllowed,
)
from psirt.advisories.models import (
    Advisory,
    AdvisoryCase,
    AdvisorySequence,
    AdvisoryState,
    AffectedProduct,
    Exploitation,
    Revision,
)
from psirt.audit.services import record
from psirt.lib.cvss import CvssError, score_vector, severity_for
from psirt.lib.cwe import lookup as lookup_cwe
from psirt.lib.references import InvalidReference, classify_identifier, normalise_advisory_url
from psirt.lib.sequences import next_in_year

logger = logging.getLogger(__name__)

MAX_TITLE = 200
MAX_TEXT = 50_000
MAX_SUMMARY = 500
MAX_REASON = 2000
MAX_LIST_ITEMS = 50

TEXT_FIELDS = (
    "summary_en",
    "summary_zh",
    "description_en",
    "description_zh",
    "impact_en",
    "impact_zh",
    "workarounds_en",
    "workarounds_zh",
    "actions_en",
    "actions_zh",
    "credits_en",
    "credits_zh",
)
EDITABLE_FIELDS = frozenset(
    {
        "title_en",
        "title_zh",
        *TEXT_FIELDS,
        "cvss31_vector",
        "cvss40_vector",
        "cwe_id",
        "exploitation",
        "identifiers",
        "reference_urls",
        "mitigation_sufficient",
        "public_concern",
    }
)
EXPLOITATION_RANK: dict[str, int] = {"none": 0, "poc": 1, "active": 2}


@dataclass(frozen=True)
class AffectedInput:
    """One row of the affected table: a product (and variant), first affected and fixing release."""

    product: Any
    variant: str = ""
    introduced: Any = None
    fixed: Any = None


# --- helpers ----------------------------------------------------------------------------------------------


def _is_lead(actor: Any) -> bool:
    return bool(getattr(actor, "is_lead", False) and getattr(actor, "is_active", False))


def _require_lead(actor: Any) -> None:
    if not _is_lead(actor):
        raise NotAllowed(_("Only a lead can do this."))


def _require_editor(actor: Any, advisory: Advisory) -> None:
    if not can_edit_advisory(actor, advisory):
        raise NotAllowed(_("Only a lead or a handler of one of this advisory's cases can change it."))


def format_advisory_id(prefix: str, year: int, number: int) -> str:
    """`VT-SA-2026-004`: the organisation's prefix, "SA", the year and a three-digit (or longer) number."""
    return f"{prefix}-SA-{year}-{number:03d}"


def _next_number(year: int) -> int:
    """Next advisory number of `year` (see psirt.lib.sequences)."""
    return next_in_year(AdvisorySequence, year)


def _prefix() -> str:
    from psirt.pages.models import OrganizationProfile

    return (OrganizationProfile.get().advisory_prefix or "PSIRT").strip() or "PSIRT"


def _clean_line(value: Any, *, label: str, limit: int, required: bool = False) -> str:
    text = " ".join(str(value or "").split())
    if required and not text:
        raise InvalidInput(_("%(field)s is required.") % {"field": label})
    if len(text) > limit:
        raise InvalidInput(_("%(field)s is too long (at most %(n)d characters).") % {"field": label, "n": limit})
    return text


def _clean_text(value: Any, *, label: str) -> str:
    text = str(value or "").replace("\r\n", "\n").replace("\x00", "").strip()
    if len(text) > MAX_TEXT:
        raise InvalidInput(_("%(field)s is too long (at most %(n)d characters).") % {"field": label, "n": MAX_TEXT})
    return text


def _clean_vector(value: Any, version: str) -> tuple[str, Decimal | None]:
    text = str(value or "").strip()
    if not text:
        return "", None
    try:
        result = score_vector(text)
    except CvssError as exc:
        raise InvalidInput(_("CVSS v%(v)s vector: %(msg)s") % {"v": version, "msg": exc.message}) from None
    if result.version != version:
        raise InvalidInput(_("This field takes a CVSS v%(v)s vector (CVSS:%(v)s/…).") % {"v": version})
    return result.vector, Decimal(str(result.base))


def _clean_identifiers(value: Any) -> str:
    items = value if isinstance(value, list | tuple) else str(value or "").replace(",", "\n").split()
    out: list[str] = []
    for item in items:
        if not str(item).strip():
            continue
        try:
            _kind, canonical = classify_identifier(str(item))
        except InvalidReference as exc:
            raise InvalidInput(f"{str(item)[:40]}: {exc.message}") from None
        if canonical not in out:
            out.append(canonical)
    if len(out) > MAX_LIST_ITEMS:
        raise InvalidInput(_("At most %(n)d identifiers per advisory.") % {"n": MAX_LIST_ITEMS})
    return "\n".join(out)


def _clean_urls(value: Any) -> str:
    items = value if isinstance(value, list | tuple) else str(value or "").split()
    out: list[str] = []
    for item in items:
        if not str(item).strip():
            continue
        try:
            url = normalise_advisory_url(str(item))
        except InvalidReference as exc:
            raise InvalidInput(exc.message) from None
        if url not in out:
            out.append(url)
    if len(out) > MAX_LIST_ITEMS:
        raise InvalidInput(_("At most %(n)d references per advisory.") % {"n": MAX_LIST_ITEMS})
    return "\n".join(out)


def _clean_cwe(value: Any) -> int | None:
    if value in (None, ""):
        return None
    entry = lookup_cwe(value)
    if entry is None:
        raise InvalidInput(_("Choose a CWE from the list (e.g. CWE-79)."))
    return int(entry.id)


def _clean_changes(changes: dict[str, Any]) -> dict[str, Any]:
    unknown = set(changes) - EDITABLE_FIELDS
    if unknown:
        raise InvalidInput(_("These fields cannot be changed here: %(f)s.") % {"f": ", ".join(sorted(unknown))})
    clean: dict[str, Any] = {}
    for name, value in changes.items():
        if name == "title_en":
            clean[name] = _clean_line(value, label=_("The English title"), limit=MAX_TITLE, required=True)
        elif name == "title_zh":
            clean[name] = _clean_line(value, label=_("The Chinese title"), limit=MAX_TITLE)
        elif name in TEXT_FIELDS:
            clean[name] = _clean_text(value, label=name)
        elif name == "cvss31_vector":
            clean[name], clean["cvss31_base"] = _clean_vector(value, "3.1")
        elif name == "cvss40_vector":
            clean[name], clean["cvss40_base"] = _clean_vector(value, "4.0")
        elif name == "cwe_id":
            clean[name] = _clean_cwe(value)
        elif name == "exploitation":
            if value not in Exploitation.values:
                raise InvalidInput(_("Choose an exploitation status from the list."))
            clean[name] = value
        elif name == "identifiers":
            clean[name] = _clean_identifiers(value)
        elif name == "reference_urls":
            clean[name] = _clean_urls(value)
        elif name in ("mitigation_sufficient", "public_concern"):
            clean[name] = bool(value)
    return clean


def _apply_scores(advisory: Advisory) -> None:
    """The list sorts and filters by the highest base score of the two vectors and its severity."""
    scores = [s for s in (advisory.cvss31_base, advisory.cvss40_base) if s is not None]
    advisory.score = max(scores) if scores else None
    advisory.severity = severity_for(advisory.score) if advisory.score is not None else ""


def _validate_affected(rows: Sequence[AffectedInput]) -> list[AffectedInput]:
    seen: set[tuple[int, str]] = set()
    out = []
    if len(rows) > 200:
        raise InvalidInput(_("At most 200 affected products per advisory."))
    for row in rows:
        variant = _clean_line(row.variant, label=_("Variant"), limit=100)
        key = (row.product.pk, variant)
        if key in seen:
            raise InvalidInput(
                _("%(product)s appears twice in the affected products; keep one row.") % {"product": row.product.name}
            )
        seen.add(key)
        for release in (row.introduced, row.fixed):
            if release is not None and (release.product_id != row.product.pk or release.variant != variant):
                raise InvalidInput(
                    _("Release %(v)s is not a release of %(product)s%(variant)s.")
                    % {
                        "v": release.version,
                        "product": row.product.name,
                        "variant": f" ({variant})" if variant else "",
                    }
                )
        if row.introduced is not None and row.fixed is not None and row.fixed.position <= row.introduced.position:
            raise InvalidInput(
                _("For %(product)s the fixing release must be newer than the first affected release.")
                % {"product": row.product.name}
            )
        out.append(AffectedInput(product=row.product, variant=variant, introduced=row.introduced, fixed=row.fixed))
    return out


def _replace_affected(advisory: Advisory, rows: Sequence[AffectedInput]) -> None:
    AffectedProduct.objects.filter(advisory=advisory).delete()
    AffectedProduct.objects.bulk_create(
        AffectedProduct(advisory=advisory, product=r.product, variant=r.variant, introduced=r.introduced, fixed=r.fixed)
        for r in rows
    )


def case_facts_of(advisory: Advisory) -> list[CaseFacts]:
    return [facts_for_case(link.case) for link in advisory.case_links.select_related("case").order_by("id")]


def _affected_rows(advisory: Advisory) -> list[tuple[int, bool]]:
    return [(pid, fixed is not None) for pid, fixed in advisory.affected.values_list("product_id", "fixed_id")]


# --- authoring --------------------------------------------------------------------------------------------


def create_advisory(*, cases: Iterable[Any], actor: Any, request: HttpRequest | None = None) -> Advisory:
    """Start a draft from one or more confirmed cases; it takes their title, scores, CWE, exploitation,
    identifiers, references, credits and products (all editable afterwards). The ID is assigned now."""
    case_list = list(dict.fromkeys(cases))
    if not case_list:
        raise InvalidInput(_("Choose at least one case to write the advisory from."))
    for case in case_list:
        if not can_author_from(actor, case):
            raise NotAllowed(_("Only a lead or a handler assigned to the case can write its advisory."))
        if case.state not in AUTHORABLE_STATES:
            raise InvalidInput(
                _("Case %(case)s is not confirmed yet; confirm it before writing its advisory.") % {"case": case.key}
            )
    facts = [facts_for_case(c) for c in case_list]
    # The most severe case sets the scores; the other facts are merged.
    v31 = max((f.cvss31_vector for f in facts if f.cvss31_vector), key=lambda v: score_vector(v).base, default="")
    v40 = max((f.cvss40_vector for f in facts if f.cvss40_vector), key=lambda v: score_vector(v).base, default="")
    exploitation = max((f.exploitation for f in facts), key=lambda e: EXPLOITATION_RANK.get(e, 0))
    identifiers = [i for f in facts for i in f.identifiers]
    urls = [u for f in facts for u in f.reference_urls]
    credits = list(dict.fromkeys(c for f in facts for c in f.credits))
    with transaction.atomic():
        now = timezone.now()
        year = timezone.localtime(now).year
        number = _next_number(year)
        advisory = Advisory(
            advisory_id=format_advisory_id(_prefix(), year, number),
            year=year,
            number=number,
            title_en=case_list[0].title[:MAX_TITLE],
            exploitation=exploitation,
            cwe_id=next((f.cwe_id for f in facts if f.cwe_id), None),
            identifiers="\n".join(dict.fromkeys(identifiers)),
            reference_urls="\n".join(dict.fromkeys(urls)),
            credits_en="\n".join(credits),
            workarounds_en="\n\n".join(f.workarounds_en for f in facts if f.workarounds_en),
            workarounds_zh="\n\n".join(f.workarounds_zh for f in facts if f.workarounds_zh),
            mitigation_sufficient=all(f.has_sufficient_mitigation for f in facts),
            created_by=actor,
        )
        advisory.cvss31_vector, advisory.cvss31_base = _clean_vector(v31, "3.1")
        advisory.cvss40_vector, advisory.cvss40_base = _clean_vector(v40, "4.0")
        _apply_scores(advisory)
        advisory.save()
        for case in case_list:
            AdvisoryCase.objects.create(advisory=advisory, case=case)
        _replace_affected(advisory, _prefill_rows(case_list, facts))
        record(
            action="advisory.created",
            actor=actor,
            request=request,
            target=advisory,
            data={"advisory": advisory.advisory_id, "cases": [c.key for c in case_list]},
        )
    return advisory


def _prefill_rows(cases: list[Any], facts: list[CaseFacts]) -> list[AffectedInput]:
    """The affected table from the cases' affected ranges (first range per product and variant wins), or the
    cases' products with an open range when the case desk recorded none."""
    from psirt.catalog.models import FirmwareRelease, Product

    ranges = [r for f in facts for r in f.ranges]
    if not ranges:
        products = {c.product_id: c.product for c in cases if c.product_id is not None}
        return [AffectedInput(product=p) for p in products.values()]
    products_by_id = Product.objects.in_bulk({r[0] for r in ranges})
    releases = FirmwareRelease.objects.in_bulk({x for r in ranges for x in (r[2], r[3]) if x is not None})
    rows: dict[tuple[int, str], AffectedInput] = {}
    for product_id, variant, introduced, fixed in ranges:
        rows.setdefault(
            (product_id, variant),
            AffectedInput(
                product=products_by_id[product_id],
                variant=variant,
                introduced=releases.get(introduced) if introduced else None,
                fixed=releases.get(fixed) if fixed else None,
            ),
        )
    return list(rows.values())


def update_advisory(
    *,
    advisory: Advisory,
    actor: Any,
    changes: dict[str, Any],
    affected: Sequence[AffectedInput] | None = None,
    revision_summary_en: str = "",
    revision_summary_zh: str = "",
    notify: bool = False,
    request: HttpRequest | None = None,
) -> Advisory:
    """Change texts, scores, identifiers and (when given) the affected table.

    A draft or an advisory in review changes in place. An approved advisory goes back to draft (the lead
    approved other words). A published one needs a revision summary and gets a new numbered, dated revision;
    with `notify`, subscribers are told about it.
    A withdrawn advisory no longer changes."""
    _require_editor(actor, advisory)
    clean = _clean_changes(changes)
    rows = _validate_affected(affected) if affected is not None else None
    summary_en = _clean_line(revision_summary_en, label=_("The revision summary"), limit=MAX_SUMMARY)
    summary_zh = _clean_line(revision_summary_zh, label=_("The Chinese revision summary"), limit=MAX_SUMMARY)
    with transaction.atomic():
        advisory = Advisory.objects.select_for_update().get(pk=advisory.pk)
        if advisory.state == AdvisoryState.WITHDRAWN:
            raise TransitionNotAllowed(_("A withdrawn advisory cannot be changed."))
        if advisory.state == AdvisoryState.PUBLISHED and not summary_en:
            raise InvalidInput(_("Say what changed: a published advisory gets a revision with a summary."))
        for name, value in clean.items():
            setattr(advisory, name, value)
        _apply_scores(advisory)
        data: dict[str, Any] = {"fields": sorted(changes)}
        if advisory.state == AdvisoryState.APPROVED:
            advisory.state = AdvisoryState.DRAFT
            advisory.approved_by = None
            advisory.approved_at = None
            advisory.scheduled_for = None
            data["approval_withdrawn"] = True
        if rows is not None:
            _replace_affected(advisory, rows)
            data["affected"] = len(rows)
        if advisory.state == AdvisoryState.PUBLISHED:
            number = _add_revision(advisory, summary_en=summary_en, summary_zh=summary_zh, actor=actor)
            data["revision"] = number
        advisory.save()
        if "revision" in data:
            _publish_csaf(advisory)
        record(action="advisory.updated", actor=actor, request=request, target=advisory, data=data)
        if "revision" in data and notify:
            _notify(advisory=advisory, revision=data["revision"], actor=actor, request=request)
    return advisory


def _add_revision(advisory: Advisory, *, summary_en: str, summary_zh: str, actor: Any) -> int:
    last = advisory.revisions.order_by("-number").values_list("number", flat=True).first() or 0
    now = timezone.now()
    Revision.objects.create(
        advisory=advisory, number=last + 1, date=now, summary_en=summary_en, summary_zh=summary_zh, actor=actor
    )
    advisory.revised_at = now
    return last + 1


# --- review and approval ----------------------------------------------------------------------------------


def _move(
    advisory: Advisory,
    *,
    source: Iterable[str],
    target: str,
    actor: Any,
    request: HttpRequest | None,
    action: str,
    data: dict[str, Any] | None = None,
    **fields: Any,
) -> Advisory:
    with transaction.atomic():
        advisory = Advisory.objects.select_for_update().get(pk=advisory.pk)
        if advisory.state not in source:
            raise TransitionNotAllowed(
                _("An advisory cannot go from “%(from)s” to “%(to)s”.")
                % {"from": AdvisoryState(advisory.state).label, "to": AdvisoryState(target).label}
            )
        advisory.state = target
        for name, value in fields.items():
            setattr(advisory, name, value)
        advisory.save()
        record(action=action, actor=actor, request=request, target=advisory, data=data or {})
    return advisory


def submit_for_review(*, advisory: Advisory, actor: Any, request: HttpRequest | None = None) -> Advisory:
    """The author asks for review (draft → in review)."""
    _require_editor(actor, advisory)
    return _move(
        advisory,
        source=[AdvisoryState.DRAFT],
        target=AdvisoryState.IN_REVIEW,
        actor=actor,
        request=request,
        action="advisory.submitted",
    )


def return_to_draft(
    *, advisory: Advisory, actor: Any, reason: str = "", request: HttpRequest | None = None
) -> Advisory:
    """Back to draft from review or approval (the reviewer wants changes); approval and schedule are dropped."""
    _require_editor(actor, advisory)
    clean = _clean_line(reason, label=_("The reason"), limit=MAX_REASON)
    return _move(
        advisory,
        source=[AdvisoryState.IN_REVIEW, AdvisoryState.APPROVED],
        target=AdvisoryState.DRAFT,
        actor=actor,
        request=request,
        action="advisory.returned",
        data={"reason": clean} if clean else {},
        approved_by=None,
        approved_at=None,
        scheduled_for=None,
    )


def approve_advisory(*, advisory: Advisory, actor: Any, request: HttpRequest | None = None) -> Advisory:
    """A lead approves the advisory for publication (in review → approved)."""
    _require_lead(actor)
    return _move(
        advisory,
        source=[AdvisoryState.IN_REVIEW],
        target=AdvisoryState.APPROVED,
        actor=actor,
        request=request,
        action="advisory.approved",
        approved_by=actor,
        approved_at=timezone.now(),
    )


def set_expedite_justification(
    *, advisory: Advisory, actor: Any, justification: str, request: HttpRequest | None = None
) -> Advisory:
    """Record (or change) why the advisory must go out before the normal conditions hold. A changed
    justification needs a lead's approval again."""
    _require_editor(actor, advisory)
    text = _clean_text(justification, label=_("The justification"))[:MAX_REASON]
    with transaction.atomic():
        advisory = Advisory.objects.select_for_update().get(pk=advisory.pk)
        if advisory.state in (AdvisoryState.PUBLISHED, AdvisoryState.WITHDRAWN):
            raise TransitionNotAllowed(_("This advisory has already been published."))
        if text != advisory.expedite_justification:
            advisory.expedite_justification = text
            advisory.expedite_approved_by = None
            advisory.expedite_approved_at = None
            advisory.save()
            record(action="advisory.expedite_requested", actor=actor, request=request, target=advisory)
    return advisory


def approve_expedite(*, advisory: Advisory, actor: Any, request: HttpRequest | None = None) -> Advisory:
    """A lead approves expedited publication of an advisory whose justification is written."""
    _require_lead(actor)
    with transaction.atomic():
        advisory = Advisory.objects.select_for_update().get(pk=advisory.pk)
        if advisory.state in (AdvisoryState.PUBLISHED, AdvisoryState.WITHDRAWN):
            raise TransitionNotAllowed(_("This advisory has already been published."))
        if not advisory.expedite_justification.strip():
            raise InvalidInput(_("Write the justification for expedited publication first."))
        advisory.expedite_approved_by = actor
        advisory.expedite_approved_at = timezone.now()
        advisory.save()
        record(action="advisory.expedite_approved", actor=actor, request=request, target=advisory)
    return advisory


# --- CSAF provider ----------------------------------------------------------------------------------------


def csaf_documents_for_publication(advisory: Advisory) -> list[dict[str, Any]]:
    """The advisory's CSAF documents (English, and the zh-Hans translation when there is one) as they would be
    published now, each checked by the validator (strict schema + every mandatory test). Raises
    InvalidCsafDocument naming the first failing test and JSON path: nothing invalid is ever published."""
    from psirt.advisories.documents import DocumentError
    from psirt.advisories.provider import ProviderError, advisory_documents, document_path
    from psirt.formats.csaf_validate import validate_csaf

    try:
        docs = advisory_documents(advisory)
        for doc in docs:
            document_path(doc)
    except (DocumentError, ProviderError, ValueError) as exc:
        raise InvalidCsafDocument(
            _("The CSAF document of this advisory cannot be written: %(reason)s") % {"reason": exc}
        ) from None
    for doc in docs:
        errors = [p for p in validate_csaf(doc) if p.severity == "error"]
        if errors:
            first = errors[0]
            raise InvalidCsafDocument(
                _(
                    "The CSAF document (%(lang)s) fails CSAF test %(test)s at %(path)s: %(message)s "
                    "(%(count)d problem(s) in all). Correct the advisory, then try again."
                )
                % {
                    "lang": doc["document"].get("lang", "en"),
                    "test": first.test,
                    "path": first.path,
                    "message": first.message,
                    "count": len(errors),
                },
                test=first.test,
                path=first.path,
            )
    return docs


def _publish_csaf(advisory: Advisory) -> None:
    """Validate the advisory's CSAF documents now, inside the publication's transaction (an invalid document
    rolls the whole change back), and write them to the provider tree once the transaction has committed (a
    rolled-back publication writes nothing). A failed write is logged and left to the periodic
    `sync_csaf_provider` task: the publication itself stands."""
    docs = csaf_documents_for_publication(advisory)
    advisory_id = advisory.advisory_id

    def write() -> None:
        from psirt.advisories.provider import update_documents

        try:
            update_documents(docs)
        except Exception:
            logger.exception(
                "CSAF provider tree not updated for %s; the sync_csaf_provider task will repair it", advisory_id
            )

    transaction.on_commit(write)


# --- publication ------------------------------------------------------------------------------------------


def check_publication(
    *, advisory: Advisory, expedite: bool = False, now: dt.datetime | None = None, check_date: bool = True
) -> None:
    """Raise the policy's refusal when `advisory` may not be published now (see `psirt.advisories.policy`)."""
    today = timezone.localdate(now or timezone.now())
    policy.check_publication(
        advisory,
        case_facts_of(advisory),
        _affected_rows(advisory),
        expedite=expedite,
        today=today,
        check_date=check_date,
    )


def publish_advisory(
    *,
    advisory: Advisory,
    actor: Any,
    expedite: bool = False,
    now: dt.datetime | None = None,
    request: HttpRequest | None = None,
) -> Advisory:
    """Publish under the policy: refuses with the missing condition, else makes the advisory public with
    revision 1, moves its cases to "published" (the reporters' timelines follow) — all in one transaction."""
    with transaction.atomic():
        advisory = Advisory.objects.select_for_update().get(pk=advisory.pk)
        if not can_edit_advisory(actor, advisory) or not all(
            can_author_from(actor, link.case) for link in advisory.case_links.select_related("case")
        ):
            raise NotAllowed(_("Only a lead, or a handler of every case of the advisory, can publish it."))
        check_publication(advisory=advisory, expedite=expedite, now=now)
        moment = now or timezone.now()
        advisory.state = AdvisoryState.PUBLISHED
        advisory.published_at = moment
        advisory.revised_at = moment
        advisory.scheduled_for = None
        advisory.schedule_problem = ""
        Revision.objects.create(
            advisory=advisory,
            number=1,
            date=moment,
            summary_en="Initial publication." if not expedite else "Initial publication (expedited).",
            summary_zh="首次发布。" if not expedite else "首次发布（加急）。",
            actor=actor,
        )
        advisory.save()
        _publish_csaf(advisory)
        record(
            action="advisory.published",
            actor=actor,
            request=request,
            target=advisory,
            data={"advisory": advisory.advisory_id, "expedited": expedite},
        )
        for link in advisory.case_links.select_related("case"):
            mark_case_published(case=link.case, actor=actor, request=request)
        _notify(advisory=advisory, revision=1, actor=actor, request=request)
    return advisory


def _notify(*, advisory: Advisory, revision: int, actor: Any, request: HttpRequest | None) -> None:
    """Subscribers and webhooks of the affected products hear of the publication (or a revision the editor
    marked as worth telling), queued in the same transaction: rolled back together, sent after the commit."""
    from psirt.notify.services import notify_advisory

    notify_advisory(advisory=advisory, revision=revision, significant=True, actor=actor, request=request)


def publication_date_for(advisory: Advisory) -> dt.datetime | None:
    """The moment a scheduled publication fires: the start of the agreed disclosure date, local time."""
    date = policy.disclosure_date(case_facts_of(advisory))
    if date is None:
        return None
    return timezone.make_aware(dt.datetime.combine(date, dt.time.min))


def schedule_publication(
    *, advisory: Advisory, actor: Any, request: HttpRequest | None = None, now: dt.datetime | None = None
) -> Advisory:
    """Schedule an approved advisory for its agreed disclosure date; a worker publishes it then, nobody at
    the keyboard. Everything but the date is checked now, so a missing fix is found today, not on the day."""
    _require_editor(actor, advisory)
    check_publication(advisory=advisory, now=now, check_date=False)
    at = publication_date_for(advisory)
    if at is None:
        raise InvalidInput(_("An included case has no agreed disclosure date: agree one before scheduling."))
    with transaction.atomic():
        advisory = Advisory.objects.select_for_update().get(pk=advisory.pk)
        advisory.scheduled_for = at
        advisory.scheduled_by = actor
        advisory.schedule_problem = ""
        advisory.save()
        record(action="advisory.scheduled", actor=actor, request=request, target=advisory, data={"at": at.isoformat()})
        transaction.on_commit(lambda: _enqueue_publication(advisory, at))
    return advisory


def _enqueue_publication(advisory: Advisory, at: dt.datetime) -> None:
    """Enqueue the publication task to run at `at` when the task backend can defer; the periodic
    `publish_due_advisories` task catches any advisory a deferred task missed (both are idempotent)."""
    from psirt.advisories.tasks import publish_scheduled_advisory

    task = publish_scheduled_advisory
    if task.get_backend().supports_defer:
        task = task.using(run_after=at)
        task.enqueue(str(advisory.public_id))
    elif at <= timezone.now():
        task.enqueue(str(advisory.public_id))


def cancel_schedule(*, advisory: Advisory, actor: Any, request: HttpRequest | None = None) -> Advisory:
    _require_editor(actor, advisory)
    with transaction.atomic():
        advisory = Advisory.objects.select_for_update().get(pk=advisory.pk)
        if advisory.scheduled_for is not None:
            advisory.scheduled_for = None
            advisory.save()
            record(action="advisory.schedule_cancelled", actor=actor, request=request, target=advisory)
    return advisory


def publish_if_due(*, advisory: Advisory, now: dt.datetime | None = None) -> bool:
    """Publish a scheduled advisory whose time has come, as the person who scheduled it. Idempotent: an
    advisory already published, unscheduled or not yet due is left alone. A refusal is kept on the advisory
    (the desk shows it) and the schedule is dropped, so a broken schedule does not retry forever."""
    moment = now or timezone.now()
    advisory.refresh_from_db()
    if advisory.state != AdvisoryState.APPROVED or advisory.scheduled_for is None or advisory.scheduled_for > moment:
        return False
    try:
        publish_advisory(advisory=advisory, actor=advisory.scheduled_by, now=moment)
    except (PublicationRefused, NotAllowed) as exc:
        with transaction.atomic():
            Advisory.objects.filter(pk=advisory.pk).update(scheduled_for=None, schedule_problem=exc.message)
            record(
                action="advisory.schedule_failed",
                target=advisory,
                data={"advisory": advisory.advisory_id, "reason": type(exc).__name__},
            )
        logger.warning("scheduled publication of %s refused: %s", advisory.advisory_id, type(exc).__name__)
        return False
    return True


def publish_due_advisories(*, now: dt.datetime | None = None) -> list[str]:
    """Publish every scheduled advisory that is due; returns the IDs published."""
    moment = now or timezone.now()
    due = Advisory.objects.filter(state=AdvisoryState.APPROVED, scheduled_for__lte=moment).order_by("scheduled_for")
    return [a.advisory_id for a in due if publish_if_due(advisory=a, now=moment)]


# --- after publication ------------------------------------------------------------------------------------


def withdraw_advisory(*, advisory: Advisory, actor: Any, reason: str, request: HttpRequest | None = None) -> Advisory:
    """A lead withdraws a published advisory with a reason; the page stays, marked withdrawn, with a revision."""
    _require_lead(actor)
    clean = _clean_line(reason, label=_("The reason"), limit=MAX_SUMMARY, required=True)
    with transaction.atomic():
        advisory = Advisory.objects.select_for_update().get(pk=advisory.pk)
        if advisory.state != AdvisoryState.PUBLISHED:
            raise TransitionNotAllowed(_("Only a published advisory can be withdrawn."))
        advisory.state = AdvisoryState.WITHDRAWN
        advisory.withdrawn_at = timezone.now()
        advisory.withdrawn_reason = clean
        _add_revision(advisory, summary_en=f"Withdrawn: {clean}", summary_zh=f"已撤回：{clean}", actor=actor)
        advisory.save()
        _publish_csaf(advisory)
        record(action="advisory.withdrawn", actor=actor, request=request, target=advisory)
    return advisory

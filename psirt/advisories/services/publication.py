"""Publishing an advisory: the policy check (`psirt.advisories.services.policy`), the CSAF documents validated inside
the publication's transaction and written to the provider tree after its commit, the subscribers' notice,
and scheduled publication on the agreed disclosure date (a worker publishes; nobody at the keyboard).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from psirt.accounts.models import User
from psirt.advisories.access import can_author_from, can_edit_advisory
from psirt.advisories.csaf import provider
from psirt.advisories.csaf.documents import DocumentError
from psirt.advisories.exceptions import (
    ExploitationUnderstated,
    FactsDiffer,
    InvalidCsafDocument,
    InvalidInput,
    NotAllowed,
    PublicationRefused,
    TransitionNotAllowed,
)
from psirt.advisories.models import (
    Advisory,
    AdvisoryState,
    AffectedProduct,
    PendingRevision,
    PublicationPolicy,
    Revision,
)
from psirt.advisories.services import policy
from psirt.advisories.services.case_facts import (
    CaseFacts,
    Difference,
    Range,
    combine,
    differences,
    exploitation_understated,
    facts_for_case,
    mark_case_published,
)
from psirt.advisories.services.inputs import (
    AffectedInput,
    affected_from_json,
    apply_scores,
    clean_changes,
    require_editor,
)
from psirt.advisories.signals import advisory_published
from psirt.audit.services import record
from psirt.cases.models import Exploitation
from psirt.formats.csaf_validate import validate_csaf
from psirt.lib.access import require_lead

logger = logging.getLogger(__name__)


def case_facts_of(advisory: Advisory) -> list[CaseFacts]:
    return [facts_for_case(link.case) for link in advisory.case_links.select_related("case").order_by("id")]


def _affected_rows(advisory: Advisory) -> list[tuple[int, bool]]:
    return [(pid, fixed is not None) for pid, fixed in advisory.affected.values_list("product_id", "fixed_id")]


def replace_affected(advisory: Advisory, rows: Sequence[AffectedInput]) -> None:
    AffectedProduct.objects.filter(advisory=advisory).delete()
    AffectedProduct.objects.bulk_create(
        AffectedProduct(advisory=advisory, product=r.product, variant=r.variant, introduced=r.introduced, fixed=r.fixed)
        for r in rows
    )


def add_revision(advisory: Advisory, *, summary_en: str, summary_zh: str, actor: User) -> int:
    """The next numbered, dated revision of `advisory` (the caller saves the advisory)."""
    last = advisory.revisions.order_by("-number").values_list("number", flat=True).first() or 0
    now = timezone.now()
    Revision.objects.create(
        advisory=advisory, number=last + 1, date=now, summary_en=summary_en, summary_zh=summary_zh, actor=actor
    )
    advisory.revised_at = now
    return last + 1


def open_revision(advisory: Advisory) -> PendingRevision | None:
    """The published advisory's open revision, or None."""
    if advisory.state != AdvisoryState.PUBLISHED:
        return None
    return PendingRevision.objects.filter(advisory=advisory).first()


def revised_advisory(advisory: Advisory, pending: PendingRevision) -> Advisory:
    """What `advisory` would be once `pending` is published: an unsaved copy with the changes applied and the
    revision's review state (state, approval, expedite justification and approval) — the object the
    publication gate judges, so a revision passes exactly the rules of a first publication."""
    candidate = Advisory.objects.get(pk=advisory.pk)
    for name, value in clean_changes(pending.changes).items():
        setattr(candidate, name, value)
    apply_scores(candidate)
    candidate.state = pending.state
    candidate.approved_by_id = pending.approved_by_id
    candidate.approved_at = pending.approved_at
    candidate.expedite_justification = pending.expedite_justification
    candidate.expedite_approved_by_id = pending.expedite_approved_by_id
    candidate.expedite_approved_at = pending.expedite_approved_at
    return candidate


@dataclass(frozen=True)
class PublicationSubject:
    """What the publication gate judges: the advisory, or, for a published advisory with an open revision, the
    advisory as revised; its affected rows ((product id, has fixed release)) for the policy; and, when the
    revision changes the affected table, that table's ranges for the facts check (None: the stored table)."""

    advisory: Advisory
    rows: list[tuple[int, bool]]
    ranges: tuple[Range, ...] | None = None


def publication_subject(advisory: Advisory) -> PublicationSubject:
    """The advisory as the next publication would publish it (see `PublicationSubject`); the open revision and
    its affected table are read once."""
    pending = open_revision(advisory)
    if pending is None:
        return PublicationSubject(advisory, _affected_rows(advisory))
    candidate = revised_advisory(advisory, pending)
    if pending.affected is None:
        return PublicationSubject(candidate, _affected_rows(advisory))
    table = affected_from_json(pending.affected)
    return PublicationSubject(
        candidate,
        [(r.product.pk, r.fixed is not None) for r in table],
        tuple(
            (r.product.pk, r.variant, r.introduced.pk if r.introduced else None, r.fixed.pk if r.fixed else None)
            for r in table
        ),
    )


def csaf_documents_for_publication(advisory: Advisory) -> list[dict[str, Any]]:
    """The advisory's CSAF documents (English, and the zh-Hans translation when there is one) as they would be
    published now, each checked by the validator (strict schema + every mandatory test). Raises
    InvalidCsafDocument naming the first failing test and JSON path: nothing invalid is ever published."""
    try:
        docs = provider.advisory_documents(advisory)
        for doc in docs:
            provider.document_path(doc)
    except (DocumentError, provider.ProviderError, ValueError) as exc:
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


def publish_csaf(advisory: Advisory) -> None:
    """Validate the advisory's CSAF documents now, inside the publication's transaction (an invalid document
    rolls the whole change back), and write them to the provider tree once the transaction has committed (a
    rolled-back publication writes nothing; a failed write is repaired by the periodic sync)."""
    provider.update_after_commit(advisory, csaf_documents_for_publication(advisory))


def check_publication(
    *,
    advisory: Advisory,
    expedite: bool = False,
    now: dt.datetime | None = None,
    check_date: bool = True,
    rules: PublicationPolicy | None = None,
) -> None:
    """Raise the refusal of the policy in force (or `rules`) when `advisory` may not be published now (see
    `psirt.advisories.services.policy`), and refuse first, whatever the policy, an advisory that states less
    exploitation than its cases know, or whose facts differ from its cases without a recorded override
    (`check_facts`). For a published advisory with an open revision, the advisory as revised is judged, under
    the same rules as a first publication."""
    subject = publication_subject(advisory)
    facts = case_facts_of(subject.advisory)
    check_facts(subject.advisory, facts, stored_ranges=subject.ranges)
    today = timezone.localdate(now or timezone.now())
    policy.check_publication(
        subject.advisory,
        facts,
        subject.rows,
        expedite=expedite,
        today=today,
        check_date=check_date,
        policy=rules,
    )


def facts_differences(advisory: Advisory) -> list[Difference]:
    """What differs from the cases in the version that would be published next: the advisory, or, with an open
    revision, the advisory as revised (the desk shows these; the publication gate refuses on them)."""
    subject = publication_subject(advisory)
    return differences(subject.advisory, stored_ranges=subject.ranges)


def check_facts(
    advisory: Advisory, facts: list[CaseFacts] | None = None, *, stored_ranges: Sequence[Range] | None = None
) -> None:
    """Refuse publication while the advisory's facts disagree with its cases: exploitation stated below the
    cases' (never allowed, not even by an override: what a case knows is never published as "none known"),
    or any difference not overridden with a reason (listed, so the author can revise to match).
    `stored_ranges` stands for the advisory's affected table when a revision changes it."""
    derived = combine(facts if facts is not None else case_facts_of(advisory))
    stronger = exploitation_understated(advisory, derived)
    if stronger is not None:
        raise ExploitationUnderstated(
            _(
                "The advisory states exploitation as “%(stated)s”, but its cases know “%(known)s”: "
                "exploitation known to a case is never published lower."
            )
            % {"stated": advisory.get_exploitation_display(), "known": Exploitation(stronger).label}
        )
    found = differences(advisory, derived, stored_ranges=stored_ranges)
    if found:
        raise FactsDiffer(
            _(
                "The advisory differs from its cases in: %(facts)s. Revise it to match the cases, or record "
                "why it differs (override), before publishing."
            )
            % {"facts": "; ".join(f"{d.label} ({d.advisory_value} ≠ {d.cases_value})" for d in found)}
        )


def publish_advisory(
    *,
    advisory: Advisory,
    actor: User,
    expedite: bool = False,
    now: dt.datetime | None = None,
    request: HttpRequest | None = None,
) -> Advisory:
    """Publish under the policy: refuses with the missing condition, else makes the advisory public with
    revision 1, moves its cases to "published" (the reporters' timelines follow) — all in one transaction.

    For a published advisory this publishes its open revision (see `publish_revision`)."""
    with transaction.atomic():
        advisory = Advisory.objects.select_for_update().get(pk=advisory.pk)
        if advisory.state == AdvisoryState.PUBLISHED:
            return publish_revision(advisory=advisory, actor=actor, expedite=expedite, now=now, request=request)
        if not can_edit_advisory(actor, advisory) or not all(
            can_author_from(actor, link.case) for link in advisory.case_links.select_related("case")
        ):
            raise NotAllowed(_("Only a lead, or a handler of every case of the advisory, can publish it."))
        rules = policy.current_policy()
        check_publication(advisory=advisory, expedite=expedite, now=now, rules=rules)
        moment = now or timezone.now()
        advisory.state = AdvisoryState.PUBLISHED
        advisory.published_under = rules if rules.pk is not None else None
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
        publish_csaf(advisory)
        record(
            action="advisory.published",
            actor=actor,
            request=request,
            target=advisory,
            data={"advisory": advisory.advisory_id, "expedited": expedite, "policy_version": rules.version},
        )
        for link in advisory.case_links.select_related("case"):
            mark_case_published(case=link.case, actor=actor, request=request)
        announce(advisory=advisory, revision=1, actor=actor, request=request)
    return advisory


def publish_revision(
    *,
    advisory: Advisory,
    actor: User,
    expedite: bool = False,
    now: dt.datetime | None = None,
    request: HttpRequest | None = None,
) -> Advisory:
    """A lead publishes the open revision of a published advisory, under the same gate as a first publication
    (approved by a lead, or expedited with a justification a lead approved): in one transaction the changes are
    applied to the advisory, the next numbered revision is written with its summary, the CSAF documents are
    re-published, subscribers are told when the revision asks for it, and the open revision is closed."""
    require_lead(actor, NotAllowed)
    with transaction.atomic():
        advisory = Advisory.objects.select_for_update().get(pk=advisory.pk)
        if advisory.state != AdvisoryState.PUBLISHED:
            raise TransitionNotAllowed(_("Only a published advisory has revisions to publish."))
        pending = PendingRevision.objects.select_for_update().filter(advisory=advisory).first()
        if pending is None:
            raise TransitionNotAllowed(_("This advisory has no open revision to publish."))
        rules = policy.current_policy()
        check_publication(advisory=advisory, expedite=expedite, now=now, rules=rules)
        for name, value in clean_changes(pending.changes).items():
            setattr(advisory, name, value)
        apply_scores(advisory)
        if pending.affected is not None:
            replace_affected(advisory, affected_from_json(pending.affected))
        number = add_revision(advisory, summary_en=pending.summary_en, summary_zh=pending.summary_zh, actor=actor)
        advisory.save()
        publish_csaf(advisory)
        record(
            action="advisory.revised",
            actor=actor,
            request=request,
            target=advisory,
            data={
                "advisory": advisory.advisory_id,
                "revision": number,
                "fields": sorted(pending.changes),
                "affected": pending.affected is not None,
                "expedited": expedite,
                "notified": pending.notify,
                "policy_version": rules.version,
            },
        )
        notify = pending.notify
        pending.delete()
        if notify:
            announce(advisory=advisory, revision=number, actor=actor, request=request)
    return advisory


def announce(*, advisory: Advisory, revision: int, actor: User, request: HttpRequest | None) -> None:
    """Tell the apps above (subscribers and webhooks of the affected products) of the publication, or of a
    revision the editor marked as worth telling, inside the caller's transaction: whatever they queue is rolled
    back with it and sent after the commit."""
    advisory_published.send(sender=Advisory, advisory=advisory, revision=revision, actor=actor, request=request)


def publication_date_for(advisory: Advisory) -> dt.datetime | None:
    """The moment a scheduled publication fires: the start of the agreed disclosure date, local time."""
    date = policy.disclosure_date(case_facts_of(advisory))
    if date is None:
        return None
    return timezone.make_aware(dt.datetime.combine(date, dt.time.min))


def schedule_publication(
    *, advisory: Advisory, actor: User, request: HttpRequest | None = None, now: dt.datetime | None = None
) -> Advisory:
    """Schedule an approved advisory for its agreed disclosure date; a worker publishes it then, nobody at
    the keyboard. Everything but the date is checked now, so a missing fix is found today, not on the day."""
    require_editor(actor, advisory)
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
    # Imported here: the tasks module runs these services, so importing it at the top would be a cycle.
    from psirt.advisories.tasks import publish_scheduled_advisory

    task = publish_scheduled_advisory
    if task.get_backend().supports_defer:
        task = task.using(run_after=at)
        task.enqueue(str(advisory.public_id))
    elif at <= timezone.now():
        task.enqueue(str(advisory.public_id))


def cancel_schedule(*, advisory: Advisory, actor: User, request: HttpRequest | None = None) -> Advisory:
    require_editor(actor, advisory)
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
        if advisory.scheduled_by is None:
            # The account that scheduled it is gone, and nobody else publishes in its name.
            raise NotAllowed(_("Only a lead, or a handler of every case of the advisory, can publish it."))
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

"""The case page's data, shared by every view that shows it (the page itself, and the forms that show it
again with a bound form and its errors). Imports no other view module, so views never import each other.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from dataclasses import dataclass
from typing import Any

from django import forms as dj_forms
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from psirt.accounts.access import desk_user
from psirt.cases.access import (
    can_edit_case,
    can_see_case_contacts,
    can_see_case_notes,
    contacts_shared,
    get_case_for,
    notes_shared,
)
from psirt.cases.advisories_hook import linked_advisories, may_write_advisory
from psirt.cases.exploitation import differences as exploit_differences
from psirt.cases.forms import (
    CvssForm,
    CweForm,
    DisclosureForm,
    ExploitationForm,
    MessageForm,
    MitigationForm,
    PersonForm,
    RangeForm,
    ReferenceForm,
    TransitionForm,
    WorkItemForm,
)
from psirt.cases.models import Case, CaseReport, DeadlineKind
from psirt.cases.queries import (
    STATE_ORDER,
    assignable_people,
    case_conversation,
    case_people,
    case_report_links,
    invitable_engineers,
    range_choices,
)
from psirt.cases.regulatory_hook import regulatory_panel
from psirt.cases.services import workflow
from psirt.cases.services.deadlines import deadline_status
from psirt.cases.services.message_templates import TEMPLATES
from psirt.cases.services.messages import template_text
from psirt.cases.services.workflow import CaseState
from psirt.intake.access import redact_contacts
from psirt.intake.models import Report
from psirt.intake.services import description_for_staff
from psirt.lib.cvss import CvssError, parse_vector
from psirt.lib.cwe import all_entries as all_cwe
from psirt.lib.cwe import lookup as lookup_cwe
from psirt.organization.queries import describe_day, organization_calendar


def case_or_404(request: HttpRequest, public_id: object) -> Case:
    """The case if the signed-in person may see it; 404 (audited) otherwise."""
    return get_case_for(request.user, public_id, request=request)


def back_to_case(case: Case, anchor: str) -> HttpResponseRedirect:
    """Redirect to a section of the case page."""
    return HttpResponseRedirect(reverse("desk:cases:case", args=[case.public_id]) + f"#{anchor}")


def case_page_again(
    request: HttpRequest, case: Case, name: str, form: dj_forms.Form, status: int = 400
) -> HttpResponse:
    """The case page again, with this form bound (its errors and the typed values) and the status."""
    return render(request, "cases/desk/case.html", case_context(request, case, {name: form}), status=status)


def _cvss_current(vector: str) -> dict[str, str]:
    try:
        return parse_vector(vector) if vector else {}
    except CvssError:
        return {}


def default_forms(case: Case) -> dict[str, Any]:
    """The forms of the case page, unbound and filled with the case's current values."""
    return {
        "transition": TransitionForm(state=case.state),
        "assign": PersonForm(people=assignable_people(case), label=_("Handler or lead"), list_id="assign-people"),
        "invite": PersonForm(people=invitable_engineers(case), label=_("Product engineer"), list_id="invite-people"),
        "cvss31": CvssForm(
            version="3.1",
            current=_cvss_current(case.cvss31_vector),
            initial={"vector": case.cvss31_vector, "shown_vector": case.cvss31_vector},
        ),
        "cvss40": CvssForm(
            version="4.0",
            current=_cvss_current(case.cvss40_vector),
            initial={"vector": case.cvss40_vector, "shown_vector": case.cvss40_vector},
        ),
        "cwe": CweForm(initial={"cwe": f"CWE-{case.cwe_id}" if case.cwe_id else ""}),
        "exploitation": ExploitationForm(
            initial={
                "status": case.exploitation,
                "aware_at": timezone.localtime(case.exploitation_aware_at) if case.exploitation_aware_at else None,
            }
        ),
        "reference": ReferenceForm(),
        "disclosure": DisclosureForm(initial={"date": case.disclosure_date}),
    }


def _compose_forms(request: HttpRequest, case: Case, reports: list[Report]) -> dict[str, Any]:
    """The message and note forms; `?template=KEY&report=ID` prefills the message in the reporter's language."""
    key = request.GET.get("template", "")[:40]
    chosen = next((r for r in reports if str(r.public_id) == request.GET.get("report", "")[:40]), None)
    chosen = chosen or (reports[0] if reports else None)
    initial: dict[str, Any] = {}
    if chosen is not None:
        initial["report"] = str(chosen.public_id)
        if key:
            initial["body"] = template_text(key=key, case=case, report=chosen)
    return {
        "message": MessageForm(reports=reports, initial=initial),
        "note": MessageForm(reports=reports, note=True, initial={"report": initial.get("report")}),
    }


def case_context(
    request: HttpRequest,
    case: Case,
    forms: dict[str, Any] | None = None,
    *,
    links: list[CaseReport] | None = None,
) -> dict[str, Any]:
    """Everything the case page shows; `forms` replaces some default forms (a bound form with errors); `links`
    are the case's `case_report_links` when the caller has read them already."""
    can_edit = can_edit_case(request.user, case)
    links = case_report_links(case) if links is None else links
    reports = [link.report for link in links]
    all_forms = (
        {**default_forms(case), **_compose_forms(request, case, reports), **remediation_forms(case)} if can_edit else {}
    )
    all_forms.update(forms or {})
    notes_visible = can_see_case_notes(request.user, case)
    # Notes nobody may read here are not even read (nor decrypted).
    with_reporter, notes = case_conversation(reports, notes=notes_visible)
    user = desk_user(request)
    contacts_visible = can_see_case_contacts(request.user, case)
    if not contacts_visible:
        for message in (*with_reporter, *notes):  # shown, never saved
            message.body = redact_contacts(message.body, message.report)
    # (report, its description, its technical details): the reporter's own text may name them too, so an
    # engineer without the contacts reads it redacted.
    report_texts = []
    for report in reports:
        description, details = description_for_staff(report), report.technical_details
        if not contacts_visible:
            description = dataclasses.replace(description, text=redact_contacts(description.text, report))
            details = redact_contacts(details, report)
        report_texts.append((report, description, details))
    return {
        "contacts_visible": contacts_visible,
        "contacts_shared": contacts_shared(case),
        "notes_visible": notes_visible,
        "notes_shared": notes_shared(case),
        "case": case,
        "report_texts": report_texts,
        "strip_deadlines": strip_deadlines(case),
        "linked_advisories": linked_advisories(case, user),
        "may_write_advisory": may_write_advisory(case, user),
        "regulatory_panel": regulatory_panel(case, request),
        "sections": SECTIONS,
        "cwe": lookup_cwe(case.cwe_id) if case.cwe_id else None,
        "exploit_differences": exploit_differences(case.exploitation, case.cvss31_vector, case.cvss40_vector),
        "cwe_options": cwe_options() if can_edit else "",
        "assignees": case.assignments.select_related("user").order_by("assigned_at"),
        "invitations": case.invitations.select_related("engineer").order_by("invited_at"),
        "references": case.references.all(),
        "reports": sorted(links, key=lambda link: link.added_at),
        "case_report_list": reports,
        "with_reporter": with_reporter,
        "notes": notes,
        "templates": [(t.key, t.label) for t in TEMPLATES.values() if t.key != "duplicate"],
        "changes": case.state_changes.select_related("actor"),
        "next_states": [CaseState(s) for s in STATE_ORDER if s in workflow.allowed_targets(case.state)],
        "can_edit": can_edit,
        "is_lead": desk_user(request).is_lead,
        **remediation_context(case),
        "forms": all_forms,
        "calculators": [(all_forms["cvss31"], "3.1", "31"), (all_forms["cvss40"], "4.0", "40")] if can_edit else [],
        "now": timezone.now(),
    }


@functools.cache
def _cwe_options(language: str) -> SafeString:
    return SafeString("".join(f'<option value="{escape(entry.label)}"></option>' for entry in all_cwe()))


def cwe_options() -> SafeString:
    """The options of the weakness picker's datalist in the active language: the same ~400 rows for every case
    page, so built once per language and process (the list only changes with the code)."""
    return _cwe_options(get_language() or "en")


# The case page's sections, in order: (anchor, title). Every section is on the page; the nav moves between them
# (anchors and :target without script, tabs with it).
SECTIONS = [
    ("triage", pgettext_lazy("case page section", "Triage")),
    ("scoring", pgettext_lazy("case page section", "Scoring")),
    ("remediation", pgettext_lazy("case page section", "Remediation")),
    ("conversation", pgettext_lazy("case page section", "Conversation")),
    ("history", pgettext_lazy("case page section", "History")),
]


@dataclass(frozen=True)
class StripDeadline:
    """One deadline in the case page's summary strip. `status` is "done", "overdue", "soon", "open" or
    "none" (not set); `when` is what is shown (a local date, or a day described by `describe_day`)."""

    key: str
    label: str
    when: str
    status: str


def strip_deadlines(case: Case, now: dt.datetime | None = None) -> list[StripDeadline]:
    """Acknowledgment, remediation and the agreed disclosure date, each marked as
    `psirt.cases.services.deadlines.deadline_status` says (the rule the list, the dashboard and the reminders
    use too)."""
    now = now or timezone.now()
    calendar = organization_calendar()  # read once for the three days

    def day(value: dt.date | None) -> str:
        return str(describe_day(value, calendar=calendar)) if value else ""

    def local_day(value: dt.datetime | None) -> dt.date | None:
        return timezone.localdate(value) if value else None

    return [
        StripDeadline(
            "ack",
            str(_("Acknowledge")),
            day(local_day(case.ack_due_at)),
            deadline_status(case, DeadlineKind.ACKNOWLEDGMENT, now),
        ),
        StripDeadline(
            "remediation",
            str(_("Remediate")),
            day(local_day(case.remediation_due_at)),
            deadline_status(case, DeadlineKind.REMEDIATION, now),
        ),
        StripDeadline(
            "disclosure",
            str(_("Disclose")),
            day(case.disclosure_date),
            deadline_status(case, DeadlineKind.DISCLOSURE, now),
        ),
    ]


def remediation_forms(case: Case) -> dict[str, Any]:
    """The remediation forms of the case page: affected range, mitigation, work item."""
    products, releases = range_choices(case)
    initial = {"product": case.product.slug} if case.product_id and case.product else {}
    return {
        "range": RangeForm(products=products, releases=releases, initial=initial),
        "mitigation": MitigationForm(),
        "work": WorkItemForm(people=case_people(case)),
    }


def remediation_context(case: Case) -> dict[str, Any]:
    """The remediation rows the case page lists."""
    return {
        "ranges": case.affected.select_related("product", "introduced", "fixed"),
        "mitigations": case.mitigations.all(),
        "work_items": case.work_items.select_related("owner"),
    }

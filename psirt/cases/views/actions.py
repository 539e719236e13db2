"""The case page's forms (POST only): each parses its form, calls one service and redirects back.

Refusals and bad input re-render the case page with the typed values kept, the message next to the form,
and the service's status (400/403/409/422). Access first: anyone without need-to-know gets 404 (audited)
before anything is parsed.
"""

from __future__ import annotations

from collections.abc import Sequence

from django import forms as dj_forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from psirt.accounts.access import desk_user
from psirt.accounts.models import Role, User
from psirt.cases.access import visible_cases
from psirt.cases.exceptions import CaseError, InvalidInput
from psirt.cases.forms import (
    CvssForm,
    CweForm,
    DisclosureForm,
    ExploitationForm,
    MessageForm,
    PersonForm,
    ReferenceForm,
    TransitionForm,
)
from psirt.cases.models import Case, CaseReference
from psirt.cases.queries import assignable_people, case_reports, invitable_engineers
from psirt.cases.services import cases as case_services
from psirt.cases.services.messages import post_message, report_of_case
from psirt.cases.services.workflow import CaseState
from psirt.cases.views.context import back_to_case, case_or_404, case_page_again
from psirt.lib.access import staff_required
from psirt.lib.cvss import CvssError, decisive_rating, score_vector
from psirt.lib.cwe import lookup as lookup_cwe
from psirt.lib.cwe import search as search_cwe
from psirt.lib.severity import label as severity_label


def _refused(request: HttpRequest, case: Case, name: str, form: dj_forms.Form, exc: CaseError) -> HttpResponse:
    form.add_error(None, exc.message)
    return case_page_again(request, case, name, form, status=exc.status)


def _person(public_id: str, roles: Sequence[str]) -> User | None:
    try:
        return User.objects.filter(public_id=public_id, role__in=roles).first()
    except (ValueError, TypeError, dj_forms.ValidationError):
        return None


@staff_required
@require_POST
def transition(request: HttpRequest, public_id: str) -> HttpResponse:
    case = case_or_404(request, public_id)
    form = TransitionForm(request.POST, state=case.state)
    if not form.is_valid():
        return case_page_again(request, case, "transition", form)
    target = form.cleaned_data["to_state"]
    duplicate_of = None
    if target == CaseState.DUPLICATE:
        key = (form.cleaned_data["duplicate_of"] or "").strip().upper()
        duplicate_of = visible_cases(request.user).filter(key=key).first() if key else None
        if duplicate_of is None:
            form.add_error("duplicate_of", _("Give the number of a case you can see, e.g. CASE-2026-0012."))
            return case_page_again(request, case, "transition", form, status=422)
    try:
        case_services.transition(
            case=case,
            to_state=target,
            actor=desk_user(request),
            reason=form.cleaned_data["reason"],
            duplicate_of=duplicate_of,
            request=request,
        )
    except CaseError as exc:
        return _refused(request, case, "transition", form, exc)
    messages.success(request, _("The case is now “%(state)s”.") % {"state": CaseState(target).label})
    return back_to_case(case, "workflow")


@staff_required
@require_POST
def people(request: HttpRequest, public_id: str) -> HttpResponse:
    """Assign / unassign a handler (leads), invite / uninvite a product engineer (editors)."""
    case = case_or_404(request, public_id)
    action = request.POST.get("action", "")[:20]
    if action in ("assign", "unassign"):
        name, pool, roles = "assign", assignable_people(case), [Role.HANDLER, Role.LEAD]
    elif action in ("invite", "uninvite"):
        name, pool, roles = "invite", invitable_engineers(case), [Role.ENGINEER]
    else:
        raise Http404
    if action in ("assign", "invite"):
        form = PersonForm(request.POST, people=pool, list_id=f"{name}-people")
        if not form.is_valid():
            return case_page_again(request, case, name, form)
        person = _person(form.cleaned_data["user"], roles)
    else:
        form = PersonForm(people=pool, list_id=f"{name}-people")
        person = _person(request.POST.get("user", "")[:40], roles)
        if person is None:
            raise Http404  # removing someone who is not there: nothing to find
    if person is None:
        form.add_error(None, _("Choose a person from the list."))
        return case_page_again(request, case, name, form, status=422)
    try:
        if action == "assign":
            case_services.assign(case=case, user=person, actor=desk_user(request), request=request)
        elif action == "unassign":
            case_services.unassign(case=case, user=person, actor=desk_user(request), request=request)
        elif action == "invite":
            case_services.invite_engineer(case=case, engineer=person, actor=desk_user(request), request=request)
        else:
            case_services.revoke_invitation(case=case, engineer=person, actor=desk_user(request), request=request)
    except CaseError as exc:
        return _refused(request, case, name, form, exc)
    messages.success(request, _("People updated."))
    return back_to_case(case, "people")


@staff_required
@require_POST
def contacts(request: HttpRequest, public_id: str) -> HttpResponse:
    """Share the reporters' contact details (`share`, `revoke`) or the internal notes (`share_notes`,
    `revoke_notes`) of the case with its product engineers, or take them back (leads)."""
    case = case_or_404(request, public_id)
    action = request.POST.get("action", "")[:20]
    if action not in ("share", "revoke", "share_notes", "revoke_notes"):
        raise Http404
    try:
        if action == "share_notes":
            case_services.share_internal_notes(case=case, actor=desk_user(request), request=request)
            messages.success(request, _("The internal notes are now shown to this case's engineers."))
        elif action == "revoke_notes":
            case_services.revoke_internal_notes(case=case, actor=desk_user(request), request=request)
            messages.success(request, _("The internal notes are hidden from this case's engineers again."))
        elif action == "share":
            case_services.share_reporter_contacts(case=case, actor=desk_user(request), request=request)
            messages.success(request, _("The reporters' contact details are now shown to this case's engineers."))
        else:
            case_services.revoke_reporter_contacts(case=case, actor=desk_user(request), request=request)
            messages.success(request, _("The reporters' contact details are hidden from this case's engineers again."))
    except CaseError as exc:
        form = dj_forms.Form({})
        form.is_valid()  # a bound, empty form that can carry the refusal
        return _refused(request, case, "contacts", form, exc)
    return back_to_case(case, "reporters")


@staff_required
@require_POST
def cvss(request: HttpRequest, public_id: str, version: str) -> HttpResponse:
    """Score one calculator. A vector typed into the text field wins if it differs from the one the form
    showed; otherwise the metric choices build the vector. The page then shows both in agreement."""
    case = case_or_404(request, public_id)
    if version not in ("31", "40"):
        raise Http404
    name, dotted = ("cvss31", "3.1") if version == "31" else ("cvss40", "4.0")
    form = CvssForm(request.POST, version=dotted)
    if not form.is_valid():
        return case_page_again(request, case, name, form)
    try:
        vector = form.submitted_vector()
    except CvssError as exc:
        form.add_error("vector", exc.message)
        return case_page_again(request, case, name, form, status=422)
    try:
        case_services.set_cvss(case=case, vector=vector, actor=desk_user(request), request=request)
    except InvalidInput as exc:
        form.add_error("vector", exc.message)
        return case_page_again(request, case, name, form, status=exc.status)
    except CaseError as exc:
        return _refused(request, case, name, form, exc)
    messages.success(request, _("CVSS score saved."))
    return back_to_case(case, "risk")


@staff_required
@require_GET
def cvss_score(request: HttpRequest, public_id: str, version: str) -> JsonResponse:
    """The scores of what a calculator currently shows (its fields as query parameters), for the case page's
    script to show as metrics are picked. Scored by `psirt.lib.cvss`, the one implementation; stores nothing."""
    case_or_404(request, public_id)
    if version not in ("31", "40"):
        raise Http404
    form = CvssForm(request.GET, version="3.1" if version == "31" else "4.0")
    if not form.is_valid():
        errors = [str(e) for field_errors in form.errors.values() for e in field_errors]
        return JsonResponse({"error": " ".join(errors)}, status=400)
    try:
        vector = form.submitted_vector()
        result = score_vector(vector)
        v31, v40 = ("", vector) if result.version == "4.0" else (vector, "")
        rating = decisive_rating(cvss31_vector=v31, cvss40_vector=v40)
    except CvssError as exc:
        return JsonResponse({"error": exc.message, "metric": exc.metric}, status=400)
    assert rating is not None  # a valid vector always has a rating
    # The severity is the one rule psirt states everywhere (decisive_rating), not this vector's BTE band.
    return JsonResponse(
        {
            **result.as_dict(),
            "severity": rating.severity,
            "severity_label": severity_label(rating.severity),
            "decisive_score": float(rating.score),
        }
    )


def _resolve_cwe(text: str) -> tuple[int | None, str]:
    """The CWE number for what was typed (number, "CWE-79: name" from the list, or unique words of a name);
    otherwise None and a message that says what to do."""
    text = " ".join(text.split())
    if not text:
        return None, ""
    head = text.split(":", 1)[0]
    entry = lookup_cwe(head) or lookup_cwe(text)
    if entry is not None:
        return entry.id, ""
    found = search_cwe(text, limit=6)
    if len(found) == 1:
        return found[0].id, ""
    if not found:
        return None, _("No weakness in the CWE list matches this; try a number such as CWE-79 or other words.")
    names = "; ".join(e.label for e in found[:5])
    return None, _("Several weaknesses match: %(names)s. Pick one.") % {"names": names}


@staff_required
@require_POST
def cwe(request: HttpRequest, public_id: str) -> HttpResponse:
    case = case_or_404(request, public_id)
    form = CweForm(request.POST)
    if not form.is_valid():
        return case_page_again(request, case, "cwe", form)
    text = form.cleaned_data["cwe"] or ""
    number, problem = _resolve_cwe(text)
    if problem:
        form.add_error("cwe", problem)
        return case_page_again(request, case, "cwe", form, status=422)
    try:
        case_services.set_cwe(case=case, cwe=number, actor=desk_user(request), request=request)
    except CaseError as exc:
        return _refused(request, case, "cwe", form, exc)
    messages.success(request, _("Weakness saved."))
    return back_to_case(case, "risk")


@staff_required
@require_POST
def exploitation(request: HttpRequest, public_id: str) -> HttpResponse:
    case = case_or_404(request, public_id)
    form = ExploitationForm(request.POST)
    if not form.is_valid():
        return case_page_again(request, case, "exploitation", form)
    try:
        case_services.set_exploitation(
            case=case,
            status=form.cleaned_data["status"],
            aware_at=form.cleaned_data["aware_at"],
            actor=desk_user(request),
            request=request,
        )
    except CaseError as exc:
        return _refused(request, case, "exploitation", form, exc)
    messages.success(request, _("Exploitation status saved."))
    return back_to_case(case, "risk")


@staff_required
@require_POST
def reference_add(request: HttpRequest, public_id: str) -> HttpResponse:
    case = case_or_404(request, public_id)
    form = ReferenceForm(request.POST)
    if not form.is_valid():
        return case_page_again(request, case, "reference", form)
    try:
        case_services.add_reference(
            case=case, value=form.cleaned_data["value"], actor=desk_user(request), request=request
        )
    except CaseError as exc:
        form.add_error("value", exc.message)
        return case_page_again(request, case, "reference", form, status=exc.status)
    messages.success(request, _("Reference added."))
    return back_to_case(case, "references")


@staff_required
@require_POST
def reference_remove(request: HttpRequest, public_id: str) -> HttpResponse:
    case = case_or_404(request, public_id)
    kind = request.POST.get("kind", "")[:8]
    value = request.POST.get("value", "")[:2000]
    # A NUL byte is never part of a stored reference (and PostgreSQL refuses it in a query).
    reference = (
        CaseReference.objects.filter(case=case, kind=kind, value=value).select_related("case").first()
        if "\x00" not in kind + value
        else None
    )
    if reference is None:
        raise Http404
    try:
        case_services.remove_reference(reference=reference, actor=desk_user(request), request=request)
    except CaseError as exc:
        messages.error(request, exc.message)
        return case_page_again(request, case, "reference", ReferenceForm(), status=exc.status)
    messages.success(request, _("Reference removed."))
    return back_to_case(case, "references")


@staff_required
@require_POST
def disclosure(request: HttpRequest, public_id: str) -> HttpResponse:
    case = case_or_404(request, public_id)
    form = DisclosureForm(request.POST)
    if not form.is_valid():
        return case_page_again(request, case, "disclosure", form)
    try:
        case_services.set_disclosure_date(
            case=case, date=form.cleaned_data["date"], actor=desk_user(request), request=request
        )
    except CaseError as exc:
        return _refused(request, case, "disclosure", form, exc)
    messages.success(request, _("Disclosure date saved."))
    return back_to_case(case, "deadlines")


def _post_message(request: HttpRequest, public_id: str, *, internal: bool) -> HttpResponse:
    case = case_or_404(request, public_id)
    name = "note" if internal else "message"
    form = MessageForm(request.POST, reports=case_reports(case), note=internal)
    if not form.is_valid():
        return case_page_again(request, case, name, form)
    try:
        report = report_of_case(case, form.cleaned_data["report"])
        post_message(
            case=case,
            report=report,
            actor=desk_user(request),
            body=form.cleaned_data["body"],
            internal=internal,
            request=request,
        )
    except CaseError as exc:
        return _refused(request, case, name, form, exc)
    if internal:
        messages.success(request, _("Internal note saved."))
    else:
        messages.success(request, _("Message sent to the reporter of %(report)s.") % {"report": report.tracking_id})
    return back_to_case(case, "conversation")


@staff_required
@require_POST
def message(request: HttpRequest, public_id: str) -> HttpResponse:
    return _post_message(request, public_id, internal=False)


@staff_required
@require_POST
def note(request: HttpRequest, public_id: str) -> HttpResponse:
    return _post_message(request, public_id, internal=True)

"""The regulatory desk: every obligation with its clocks, one page per obligation with the stage forms prefilled
from the case, the record of filings, and the downloads of a stage in the platform's field order.

Thin views: the access helper answers 404 to anyone without need-to-know (and audits it), the services decide and
audit, a refusal re-renders the page with the typed values kept and the exception's status."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from psirt.accounts.access import desk_user
from psirt.cases.access import get_case_for
from psirt.lib.access import lead_required, staff_required
from psirt.lib.crypto import file_store
from psirt.organization.models import OrganizationProfile
from psirt.regulatory import services
from psirt.regulatory.access import get_obligation_for
from psirt.regulatory.clocks import STAGES_OF, Clock, Stage, Track
from psirt.regulatory.data import member_state
from psirt.regulatory.exceptions import RegulatoryError
from psirt.regulatory.forms import DecisionForm, DirectNoticeForm, EntryForm, IncidentForm, MeasureForm, SubmitForm
from psirt.regulatory.models import Decision, FilingKind, Obligation
from psirt.regulatory.queries import counts, desk_rows, open_requests, record_of

FIELD_PREFIX = "f-"


def _no_engineers(request: HttpRequest) -> None:
    if desk_user(request).is_engineer:
        raise Http404


def describe_left(clock: Clock, now: dt.datetime) -> str:
    """ "5 h 12 min left", "overdue by 3 h 4 min", "submitted", or what the clock waits for."""
    if clock.done:
        return _("submitted")
    if clock.due_at is None:
        if clock.waiting_for == "measure_available":
            return _("starts when a corrective or mitigating measure is available")
        return _("starts when the notification is submitted")
    left = clock.due_at - now
    seconds = abs(int(left.total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    parts = []
    if days:
        parts.append(ngettext("%(n)s day", "%(n)s days", days) % {"n": days})
    if hours or days:
        parts.append(_("%(n)s h") % {"n": hours})
    if not days:
        parts.append(_("%(n)s min") % {"n": minutes})
    text = " ".join(parts)
    return (
        _("%(time)s left") % {"time": text} if left.total_seconds() >= 0 else _("overdue by %(time)s") % {"time": text}
    )


def clock_rows(clocks: list[Clock], now: dt.datetime, active: bool) -> list[dict[str, Any]]:
    out = []
    for c in clocks:
        fraction = c.elapsed_fraction(now)
        out.append(
            {
                "clock": c,
                "label": Stage(c.stage).label,
                "left": describe_left(c, now),
                "overdue": active and c.overdue(now),
                "soon": active and not c.done and fraction is not None and 0.8 <= fraction < 1,
                "percent": min(100, max(0, int((fraction or 0) * 100))),
            }
        )
    return out


@staff_required
def obligation_list(request: HttpRequest) -> HttpResponse:
    _no_engineers(request)
    user = desk_user(request)
    services.ensure_exploited_obligations()
    services.list_viewed(actor=user, request=request)
    now = timezone.now()
    rows = [{"row": r, "clocks": clock_rows(r.clocks, now, r.obligation.is_active)} for r in desk_rows(user, now)]
    context = {
        "rows": rows,
        "counts": counts(user, now),
        "incident_form": IncidentForm() if user.is_lead else None,
        "miit_working_days": settings.PSIRT_MIIT_WORKING_DAYS,
    }
    return render(request, "regulatory/desk/list.html", context)


@lead_required
@require_POST
def open_incident(request: HttpRequest) -> HttpResponse:
    form = IncidentForm(request.POST)
    if form.is_valid():
        try:
            obligation = services.open_incident(
                actor=desk_user(request),
                title=form.cleaned_data["title"],
                aware_at=form.cleaned_data["aware_at"],
                evidence=form.cleaned_data["evidence"],
                request=request,
            )
        except RegulatoryError as exc:
            form.add_error(None, str(exc.message))
        else:
            return HttpResponseRedirect(reverse("desk:regulatory:detail", args=[obligation.public_id]))
    user = desk_user(request)
    now = timezone.now()
    rows = [{"row": r, "clocks": clock_rows(r.clocks, now, r.obligation.is_active)} for r in desk_rows(user, now)]
    context = {
        "rows": rows,
        "counts": counts(user, now),
        "incident_form": form,
        "miit_working_days": settings.PSIRT_MIIT_WORKING_DAYS,
    }
    return render(request, "regulatory/desk/list.html", context, status=422)


@lead_required
@require_POST
def open_miit(request: HttpRequest, case_id: str) -> HttpResponse:
    case = get_case_for(request.user, case_id, request=request)
    try:
        obligation = services.open_miit(actor=desk_user(request), case=case, request=request)
    except RegulatoryError as exc:
        messages.error(request, str(exc.message))
        return HttpResponseRedirect(reverse("desk:cases:case", args=[case.public_id]))
    return HttpResponseRedirect(reverse("desk:regulatory:detail", args=[obligation.public_id]))


def _stage_sections(obligation: Obligation, typed: dict[str, dict[str, str]] | None) -> list[dict[str, Any]]:
    stages = list(STAGES_OF[obligation.track])
    if obligation.track != Track.MIIT and open_requests(obligation):
        stages.append(Stage.INTERMEDIATE)
    filed = {f.stage for f in obligation.filings.filter(kind=FilingKind.SUBMISSION)}
    # The stage to work on is open (the first not filed, or the one with typed values); the others are folded.
    first_open = next((s for s in stages if s not in filed or s == Stage.INTERMEDIATE), None)
    if typed:
        first_open = next(iter(typed))
    sections = []
    for stage in stages:
        rows = services.stage_rows(obligation, stage)
        mine = (typed or {}).get(stage, {})
        sections.append(
            {
                "stage": stage,
                "label": Stage(stage).label,
                "filed": stage in filed and stage != Stage.INTERMEDIATE,
                "open": stage == first_open,
                "fields": [
                    {
                        "key": k,
                        "label": label,
                        "requirement": req,
                        "value": mine.get(k, value),
                        "name": FIELD_PREFIX + k,
                    }
                    for k, label, req, value in rows
                ],
            }
        )
    return sections


def _detail(
    request: HttpRequest,
    obligation: Obligation,
    *,
    error: str = "",
    status: int = 200,
    typed: dict[str, dict[str, str]] | None = None,
    forms: dict[str, Any] | None = None,
) -> HttpResponse:
    user = desk_user(request)
    now = timezone.now()
    record = record_of(obligation)
    clocks = services.obligation_clocks(obligation, record)
    profile = OrganizationProfile.get()
    state = member_state(profile.eu_member_state)
    given = forms or {}
    context = {
        "obligation": obligation,
        "case": obligation.case,
        "clocks": clock_rows(clocks, now, obligation.is_active),
        "sections": _stage_sections(obligation, typed) if obligation.decision == Decision.REPORTABLE else [],
        "record": record,
        "evidence_files": list(obligation.evidence_files.all()),
        "is_lead": user.is_lead,
        "decision_form": given.get("decision") or DecisionForm(),
        "measure_form": given.get("measure")
        or MeasureForm(
            initial={
                "measure_available_at": obligation.measure_available_at.astimezone(dt.UTC)
                if obligation.measure_available_at
                else None
            }
        ),
        "submit_form": given.get("submit") or SubmitForm(),
        "entry_form": given.get("entry") or EntryForm(),
        "known_customers": services.known_customers(obligation),
        "notice_form": given.get("notice") or _notice_form(obligation),
        "requests": open_requests(obligation),
        "error": error,
        "member_state": state,
        "reporting_basis": profile.get_eu_reporting_basis_display(),
        "miit_working_days": settings.PSIRT_MIIT_WORKING_DAYS,
        "is_miit": obligation.track == Track.MIIT,
        "may_delete": services.may_delete(obligation, now=now),
    }
    return render(request, "regulatory/desk/detail.html", context, status=status)


def _notice_form(obligation: Obligation) -> DirectNoticeForm | None:
    draft = services.direct_notice_draft(obligation)
    return DirectNoticeForm(initial=draft) if draft is not None else None


@staff_required
def detail(request: HttpRequest, public_id: str) -> HttpResponse:
    obligation = get_obligation_for(request.user, public_id, request=request)
    services.viewed(obligation=obligation, actor=desk_user(request), request=request)
    return _detail(request, obligation)


@staff_required
@require_POST
def decide(request: HttpRequest, public_id: str) -> HttpResponse:
    obligation = get_obligation_for(request.user, public_id, request=request)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        return _detail(request, obligation, status=422, forms={"decision": form})
    try:
        services.decide(
            obligation=obligation,
            actor=desk_user(request),
            reportable=form.cleaned_data["reportable"],
            evidence=form.cleaned_data["evidence"],
            reason=form.cleaned_data["reason"],
            files=request.FILES.getlist("files"),
            request=request,
        )
    except RegulatoryError as exc:
        return _detail(request, obligation, error=str(exc.message), status=exc.status, forms={"decision": form})
    messages.success(request, _("Decision recorded."))
    return HttpResponseRedirect(reverse("desk:regulatory:detail", args=[obligation.public_id]))


@staff_required
@require_POST
def measure(request: HttpRequest, public_id: str) -> HttpResponse:
    obligation = get_obligation_for(request.user, public_id, request=request)
    form = MeasureForm(request.POST)
    if not form.is_valid():
        return _detail(request, obligation, status=422, forms={"measure": form})
    try:
        services.set_measure_available(
            obligation=obligation,
            actor=desk_user(request),
            at=form.cleaned_data["measure_available_at"],
            request=request,
        )
    except RegulatoryError as exc:
        return _detail(request, obligation, error=str(exc.message), status=exc.status, forms={"measure": form})
    messages.success(request, _("Measure-available time saved."))
    return HttpResponseRedirect(reverse("desk:regulatory:detail", args=[obligation.public_id]))


def _typed_values(request: HttpRequest) -> dict[str, str]:
    return {k[len(FIELD_PREFIX) :]: str(v) for k, v in request.POST.items() if k.startswith(FIELD_PREFIX)}


@staff_required
@require_POST
def stage(request: HttpRequest, public_id: str, stage: str) -> HttpResponse:
    obligation = get_obligation_for(request.user, public_id, request=request)
    if stage not in Stage.values:
        raise Http404
    values = _typed_values(request)
    action = request.POST.get("action", "")[:10]
    form = SubmitForm(request.POST)
    try:
        if action == "submit":
            if not form.is_valid():
                return _detail(request, obligation, status=422, typed={stage: values}, forms={"submit": form})
            services.submit_stage(
                obligation=obligation,
                actor=desk_user(request),
                stage=stage,
                values=values,
                reference=form.cleaned_data["reference"],
                submitted_at=form.cleaned_data["submitted_at"],
                request=request,
            )
            messages.success(request, _("Marked as submitted; the exact fields are kept in the record."))
        else:
            services.save_draft(
                obligation=obligation, actor=desk_user(request), stage=stage, values=values, request=request
            )
            messages.success(request, _("Draft saved."))
    except RegulatoryError as exc:
        return _detail(request, obligation, error=str(exc.message), status=exc.status, typed={stage: values})
    return HttpResponseRedirect(reverse("desk:regulatory:detail", args=[obligation.public_id]) + f"#stage-{stage}")


@staff_required
@require_POST
def entry(request: HttpRequest, public_id: str) -> HttpResponse:
    obligation = get_obligation_for(request.user, public_id, request=request)
    form = EntryForm(request.POST)
    if not form.is_valid():
        return _detail(request, obligation, status=422, forms={"entry": form})
    data = form.cleaned_data
    answers = None
    if data["answers"]:
        answers = obligation.filings.filter(public_id=data["answers"]).first()
    try:
        services.record_entry(
            obligation=obligation,
            actor=desk_user(request),
            kind=data["kind"],
            note=data["note"],
            reference=data["reference"],
            due_at=data["due_at"],
            answers=answers,
            request=request,
        )
    except RegulatoryError as exc:
        return _detail(request, obligation, error=str(exc.message), status=exc.status, forms={"entry": form})
    messages.success(request, _("Recorded."))
    return HttpResponseRedirect(reverse("desk:regulatory:detail", args=[obligation.public_id]) + "#record")


def stage_document(obligation: Obligation, stage: str) -> list[dict[str, str]]:
    return [
        {"field": k, "label": str(label), "value": value}
        for k, label, _r, value in services.stage_rows(obligation, stage)
    ]


@staff_required
def download(request: HttpRequest, public_id: str, stage: str, fmt: str) -> HttpResponse:
    """The stage's fields in the platform's order, as a text or JSON file to paste from (audited)."""
    obligation = get_obligation_for(request.user, public_id, request=request)
    if stage not in Stage.values or fmt not in ("txt", "json"):
        raise Http404
    try:
        with translation.override("en"):  # the platform's labels: it is English-only
            rows = stage_document(obligation, stage)
    except RegulatoryError:
        raise Http404 from None
    services.viewed(obligation=obligation, actor=desk_user(request), request=request, what=f"download:{stage}.{fmt}")
    name = f"{obligation.track}-{stage}-{str(obligation.public_id)[:8]}.{fmt}"
    if fmt == "json":
        body = json.dumps({"track": obligation.track, "stage": stage, "fields": rows}, ensure_ascii=False, indent=2)
        response = HttpResponse(body, content_type="application/json; charset=utf-8")
    else:
        body = "\n\n".join(f"{r['label']}\n{r['value']}" for r in rows) + "\n"
        response = HttpResponse(body, content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response


@staff_required
def evidence_file(request: HttpRequest, public_id: str, file_id: str) -> HttpResponse:
    obligation = get_obligation_for(request.user, public_id, request=request)
    item = obligation.evidence_files.filter(public_id=file_id).first()
    if item is None:
        raise Http404
    services.viewed(obligation=obligation, actor=desk_user(request), request=request, what="evidence")
    # Evidence is at most 20 MB in all: read whole, served as an opaque download under a safe ASCII name.
    response = HttpResponse(file_store().read(item.storage_name), content_type="application/octet-stream")
    safe = "".join(c for c in str(item.filename) if c.isascii() and (c.isalnum() or c in "._-"))[:80] or "evidence"
    response["Content-Disposition"] = f'attachment; filename="{safe.lstrip(".") or "evidence"}"'
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@staff_required
@require_POST
def draft_notice(request: HttpRequest, public_id: str) -> HttpResponse:
    """Art. 14(8): draft the notice to users as an expedited advisory, then open it on the advisory desk."""
    obligation = get_obligation_for(request.user, public_id, request=request)
    try:
        advisory = services.draft_customer_notice(obligation=obligation, actor=desk_user(request), request=request)
    except RegulatoryError as exc:
        return _detail(request, obligation, error=str(exc.message), status=exc.status)
    messages.success(request, _("Expedited advisory drafted: complete it and have it approved for publication."))
    return HttpResponseRedirect(reverse("desk:advisories:detail", args=[advisory.public_id]))


@staff_required
@require_POST
def direct_notice(request: HttpRequest, public_id: str) -> HttpResponse:
    """Art. 14(8), direct: "draft" prepares the prefilled notice, "save" keeps the edited text, "send" (a lead)
    queues it to the known customers and records users informed."""
    obligation = get_obligation_for(request.user, public_id, request=request)
    action = request.POST.get("action", "")
    actor = desk_user(request)
    anchor = reverse("desk:regulatory:detail", args=[obligation.public_id]) + "#direct-notice"
    if action == "draft":
        try:
            services.draft_direct_notice(obligation=obligation, actor=actor, request=request)
        except RegulatoryError as exc:
            return _detail(request, obligation, error=str(exc.message), status=exc.status)
        messages.success(request, _("Direct notice drafted: review both languages, then a lead sends it."))
        return HttpResponseRedirect(anchor)
    if action not in ("save", "send"):
        return _detail(request, obligation, error=_("Unknown action."), status=400)
    form = DirectNoticeForm(request.POST)
    if not form.is_valid():
        return _detail(request, obligation, status=422, forms={"notice": form})
    try:
        if action == "save":
            services.draft_direct_notice(obligation=obligation, actor=actor, values=form.cleaned_data, request=request)
            messages.success(request, _("Direct notice saved (not sent)."))
            return HttpResponseRedirect(anchor)
        filing = services.send_direct_notice(
            obligation=obligation, actor=actor, values=form.cleaned_data, request=request
        )
    except RegulatoryError as exc:
        return _detail(request, obligation, error=str(exc.message), status=exc.status, forms={"notice": form})
    messages.success(
        request,
        _("Direct notice %(id)s is being sent; users informed is on the record.") % {"id": filing.reference},
    )
    return HttpResponseRedirect(reverse("desk:regulatory:detail", args=[obligation.public_id]) + "#record")

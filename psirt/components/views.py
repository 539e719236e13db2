"""The components desk: what matched (per vulnerability, per release), VEX decisions, SBOM upload and download,
and releases without an SBOM (the CRA to-do). Thin: access through `psirt.components.access`, changes through
`psirt.components.services`."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from psirt.cases.access import visible_cases
from psirt.components import queries, services
from psirt.components.access import (
    can_decide,
    can_upload_sbom,
    get_release_for,
    has_component_desk,
    visible_releases,
)
from psirt.components.exceptions import ComponentsError
from psirt.components.forms import DecisionForm, SbomUploadForm
from psirt.components.models import SbomDocument, Vulnerability
from psirt.lib.access import is_lead, staff_required
from psirt.lib.errors import DomainError

MAX_LISTED = 500


def _desk_or_404(request: HttpRequest) -> None:
    if not has_component_desk(request.user):
        raise Http404


@staff_required
def index(request: HttpRequest) -> HttpResponse:
    _desk_or_404(request)
    releases = visible_releases(request.user)
    context = {
        "vulnerabilities": list(queries.vulnerabilities_with_counts(releases)[:MAX_LISTED]),
        "without_sbom": list(queries.releases_without_sbom(releases)[:MAX_LISTED]),
    }
    return render(request, "components/index.html", context)


@staff_required
@require_http_methods(["GET", "POST"])
def vulnerability(request: HttpRequest, vuln_id: str) -> HttpResponse:
    _desk_or_404(request)
    vuln = get_object_or_404(Vulnerability, vuln_id=vuln_id[:100])
    releases = list(queries.affected_releases(vuln, visible_releases(request.user)))
    decidable = [r for r in releases if can_decide(request.user, r)]
    choices = [(str(r.public_id), str(r)) for r in decidable]
    form = DecisionForm(request.POST or None, release_choices=choices)
    if request.method == "POST" and form.is_valid():
        chosen = {str(k) for k in form.cleaned_data["releases"]}
        case = None
        case_key = form.cleaned_data["case_key"].strip()
        if case_key:
            case = visible_cases(request.user).filter(key=case_key).first()
            if case is None:
                form.add_error("case_key", _("No case you may see has this key."))
        if case is not None or not case_key:
            try:
                decisions = services.decide(
                    releases=[r for r in decidable if str(r.public_id) in chosen],
                    vulnerability=vuln,
                    status=form.cleaned_data["status"],
                    justification=form.cleaned_data["justification"],
                    impact_statement=form.cleaned_data["impact_statement"],
                    action_statement=form.cleaned_data["action_statement"],
                    impact_statement_zh=form.cleaned_data["impact_statement_zh"],
                    action_statement_zh=form.cleaned_data["action_statement_zh"],
                    case=case,
                    maintainer_notified_at=form.cleaned_data["maintainer_notified_at"],
                    maintainer_notice=form.cleaned_data["maintainer_notice"],
                    open_case=form.cleaned_data["open_case"],
                    actor=request.user,  # type: ignore[arg-type]
                    request=request,
                )
            except DomainError as exc:
                form.add_error(None, str(exc.message))
            else:
                messages.success(request, _("Decision recorded for %(n)s releases.") % {"n": len(chosen)})
                opened = decisions[0].case if form.cleaned_data["open_case"] and decisions else None
                if opened is not None:
                    messages.success(request, _("Case %(case)s opened for the fix.") % {"case": opened.key})
                return redirect("desk:components:vulnerability", vuln_id=vuln.vuln_id)
    rows = [(r, queries.current_decision(r, vuln)) for r in releases]
    return render(
        request,
        "components/vulnerability.html",
        {"vuln": vuln, "rows": rows, "form": form, "can_decide_any": bool(decidable)},
        status=400 if request.method == "POST" else 200,
    )


@staff_required
@require_http_methods(["GET", "POST"])
def release(request: HttpRequest, public_id: str) -> HttpResponse:
    rel = get_release_for(request.user, public_id, request=request)
    may_upload = can_upload_sbom(request.user, rel)
    form = SbomUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        if not may_upload:
            raise Http404
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                services.import_sbom(
                    release=rel,
                    data=upload.read(),
                    filename=upload.name or "",
                    actor=request.user,  # type: ignore[arg-type]
                    request=request,
                )
            except ComponentsError as exc:
                form.add_error("file", str(exc.message))
            else:
                messages.success(request, _("SBOM stored."))
                return redirect("desk:components:release", public_id=rel.public_id)
    links = rel.component_links.select_related("component_version__component").order_by(
        "component_version__component__name", "component_version__version"
    )
    context = {
        "release": rel,
        "sbom": queries.current_sbom(rel),
        "sboms": SbomDocument.objects.filter(release=rel).defer("content"),
        "components": [link.component_version for link in links[:MAX_LISTED]],
        "component_count": links.count(),
        "open": list(queries.open_questions(rel)[:MAX_LISTED]),
        "decided": list(
            queries.current_decisions().filter(release=rel).select_related("vulnerability", "fixed_in", "case")
        ),
        "form": form,
        "may_upload": may_upload,
        "is_lead": is_lead(request.user),
    }
    return render(request, "components/release.html", context, status=400 if request.method == "POST" else 200)


@staff_required
def sbom_download(request: HttpRequest, public_id: str) -> HttpResponse:
    document = get_object_or_404(SbomDocument.objects.select_related("release"), public_id=public_id)
    get_release_for(request.user, document.release.public_id, request=request)
    response = HttpResponse(services.sbom_bytes(document), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="sbom-{document.public_id}.json"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@staff_required
@require_http_methods(["GET", "POST"])
def sbom_delete(request: HttpRequest, public_id: str) -> HttpResponse:
    """Leads only (404 for anyone else, like an unknown SBOM): GET asks to confirm and says until when the SBOM
    must be kept; POST deletes it, or says why it may not (`services.delete_sbom` checks the retention)."""
    if not is_lead(request.user):
        raise Http404
    document = get_object_or_404(
        SbomDocument.objects.select_related("release__product").defer("content"), public_id=public_id
    )
    rel = get_release_for(request.user, document.release.public_id, request=request)
    if request.method == "POST":
        try:
            services.delete_sbom(document=document, actor=request.user, request=request)  # type: ignore[arg-type]
        except DomainError as exc:
            messages.error(request, str(exc.message))
        else:
            messages.success(request, _("SBOM deleted."))
        return redirect("desk:components:release", public_id=rel.public_id)
    ends = services.retention_ends(rel)
    context = {
        "release": rel,
        "sbom": document,
        "retention_ends": ends,
        "may_delete": ends is not None and timezone.localdate() >= ends,
        "years": services.RETENTION_YEARS,
    }
    return render(request, "components/sbom_delete.html", context)

"""The public report form (POST → redirect → thank-you page that shows the private link once) and the "lost my
link" page: thin wrappers over `psirt.intake.services`."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from django.utils.translation import get_language
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods

from psirt.counters.exceptions import RateLimited
from psirt.intake import services
from psirt.intake.exceptions import AttachmentRejected, IntakeError, InvalidReport
from psirt.intake.forms import LostLinkForm, ReportForm, release_product_map
from psirt.intake.models import Source
from psirt.intake.views.common import error_response, private_response, read_body
from psirt.lib.crypto import decrypt_text, encrypt_text
from psirt.organization.models import OrganizationProfile

SESSION_SUBMITTED = "psirt_intake_submitted"


@csrf_exempt
def report_form(request: HttpRequest) -> HttpResponse:
    """Size check before anything reads the body (CSRF checking would parse the upload), then the form."""
    if request.method == "POST":
        refusal = read_body(request)
        if refusal is not None:
            return refusal
    return _report_form(request)


def _form_context(form: ReportForm, stash_token: str | None) -> dict[str, Any]:
    stashed = services.stashed_files(stash_token) if stash_token else []
    return {
        "form": form,
        "stash_token": stash_token if stashed else "",
        "stashed": stashed,
        "release_products": release_product_map(),
        "max_file_mb": settings.PSIRT_MAX_ATTACHMENT_MB,
        "max_total_mb": settings.PSIRT_MAX_ATTACHMENTS_TOTAL_MB,
    }


@csrf_protect
@require_http_methods(["GET", "POST"])
def _report_form(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return render(request, "intake/report_form.html", _form_context(ReportForm(), None))
    post, uploaded = request.POST, request.FILES
    stash_token = (post.get("stash") or "").strip() or None
    # Files kept from the last attempt that the visitor unticked go now.
    keep = set(post.getlist("keep"))
    stashed = services.stashed_files(stash_token)
    services.discard_stashed(
        token=stash_token, public_ids=[str(f.public_id) for f in stashed if str(f.public_id) not in keep]
    )
    stashed_size = sum(f.size for f in services.stashed_files(stash_token))
    form = ReportForm(post, uploaded, stashed_size=stashed_size)
    if form.is_valid():
        try:
            submission = services.submit_report(
                data=form.to_input(),
                files=form.incoming_files(),
                stash_token=stash_token,
                source=Source.WEB,
                language=get_language() or settings.LANGUAGE_CODE,
                request=request,
            )
        except InvalidReport as exc:
            for field, errors in exc.errors.items():
                for error in errors:
                    form.add_error(field if field in form.fields else None, error)
        except (IntakeError, RateLimited) as exc:
            # Rate limited or a file refused while streaming: keep everything typed, keep the files.
            stash_token = _stash_uploads(form, stash_token)
            response = render(
                request,
                "intake/report_form.html",
                {**_form_context(form, stash_token), "refusal": exc.message},
                status=exc.status,
            )
            if isinstance(exc, RateLimited):
                response.headers["Retry-After"] = str(exc.retry_after)
            return response
        else:
            request.session[SESSION_SUBMITTED] = {
                "tracking_id": submission.report.tracking_id,
                # The token is encrypted in the session row too: only its hash is ever stored in clear.
                "url": encrypt_text(submission.portal_url),
                "email": encrypt_text(submission.report.reporter_email),
                "ack_due": submission.report.ack_due_at.isoformat() if submission.report.ack_due_at else "",
                "pgp": bool(submission.report.pgp_key),
            }
            return HttpResponseRedirect(reverse("intake:thanks"))
    # Invalid: keep the newly uploaded files that passed their own checks, so they need not be picked again.
    stash_token = _stash_uploads(form, stash_token)
    return render(request, "intake/report_form.html", _form_context(form, stash_token), status=422)


def _stash_uploads(form: ReportForm, stash_token: str | None) -> str | None:
    files = form.cleaned_data.get("attachments") if "attachments" not in form.errors else None
    if not files:
        return stash_token
    try:
        return services.stash_files(token=stash_token, files=form.incoming_files())
    except AttachmentRejected as exc:
        form.add_error(None, exc.message)
        return stash_token


def report_thanks(request: HttpRequest) -> HttpResponse:
    """Shows the tracking ID and the private link once, then forgets them."""
    data = request.session.pop(SESSION_SUBMITTED, None)
    if not data:
        return private_response(render(request, "intake/report_thanks.html", {"gone": True}))
    ack_due = parse_datetime(data["ack_due"]) if data.get("ack_due") else None
    context = {
        "tracking_id": data["tracking_id"],
        "portal_url": decrypt_text(data["url"]),
        "email": decrypt_text(data["email"]),
        "ack_due": ack_due,
        "pgp": data.get("pgp"),
    }

    context["ack_business_days"] = OrganizationProfile.get().ack_business_days
    return private_response(render(request, "intake/report_thanks.html", context))


@require_http_methods(["GET", "POST"])
def lost_link(request: HttpRequest) -> HttpResponse:
    """Sends fresh links to the address on file; answers the same whether or not it is known."""
    if request.method == "POST":
        form = LostLinkForm(request.POST)
        if form.is_valid():
            try:
                services.request_new_link(
                    email=form.cleaned_data["email"], language=get_language() or "en", request=request
                )
            except RateLimited as exc:
                return error_response(request, exc)
            return render(request, "intake/lost_link.html", {"sent": True})
        return render(request, "intake/lost_link.html", {"form": form}, status=422)
    return render(request, "intake/lost_link.html", {"form": LostLinkForm()})

"""Intake views: thin wrappers over `psirt.intake.services`.

Public: the report form (POST → redirect → thank-you page that shows the private link once), the "lost my
link" page and the reporter portal. Desk: the leads' inbox, a report page and attachment downloads (both
audited). Domain exceptions become responses in `error_response`, the one place for the HTML side.
"""

from __future__ import annotations

import logging
from typing import Any, cast

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.middleware.csrf import CsrfViewMiddleware
from django.shortcuts import render
from django.urls import get_callable, reverse
from django.utils import timezone
from django.utils.decorators import decorator_from_middleware
from django.utils.http import content_disposition_header
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods

from psirt.counters.exceptions import RateLimited
from psirt.intake import services
from psirt.intake.access import get_attachment_for, get_report_for
from psirt.intake.exceptions import AttachmentRejected, IntakeError, InvalidReport
from psirt.intake.forms import (
    CreditForm,
    DisclosureDateForm,
    LostLinkForm,
    MessageForm,
    ReportForm,
    release_product_map,
)
from psirt.intake.models import EXIT_STAGES, MAIN_STAGES, InboxState, Report, Source, Stage
from psirt.lib.access import lead_required
from psirt.lib.crypto import decrypt_text, encrypt_text

logger = logging.getLogger(__name__)

SESSION_SUBMITTED = "psirt_intake_submitted"
# Form fields are small; anything far beyond the attachment limits is refused before it is read.
BODY_SLACK = 5 * 1024 * 1024


def _private(response: HttpResponse) -> HttpResponse:
    """Pages that carry a private token: the token must not leak through Referer, caches or robots."""
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    response.headers["Cache-Control"] = "no-store, private"
    return response


def _quiet(response: HttpResponse) -> HttpResponse:
    """Keep Django from logging this response with its path (the path holds a private token)."""
    response._has_been_logged = True  # type: ignore[attr-defined]
    return response


def error_response(
    request: HttpRequest, exc: IntakeError | RateLimited, *, template: str = "intake/refused.html"
) -> HttpResponse:
    """The HTML answer to a domain refusal (429 with Retry-After for rate limits)."""
    response = render(request, template, {"message": exc.message, "exc": exc}, status=exc.status)
    if isinstance(exc, RateLimited):
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


def _too_large(request: HttpRequest) -> HttpResponse:
    exc = AttachmentRejected(
        _(
            "Your submission is too large (files together may be at most %(mb)d MB, each text field far less). "
            "Nothing was saved. Go back, remove or compress files, and send again."
        )
        % {"mb": services.max_total_bytes() // (1024 * 1024)}
    )
    return error_response(request, exc)


def _body_too_large(request: HttpRequest) -> bool:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return True
    return length > services.max_total_bytes() + BODY_SLACK


# ---------------------------------------------------------------------------------------------- report


@csrf_exempt
def report_form(request: HttpRequest) -> HttpResponse:
    """Size check before anything reads the body (CSRF checking would parse the upload), then the form."""
    if request.method == "POST":
        refusal = _read_body(request)
        if refusal is not None:
            return refusal
    return _report_form(request)


def _read_body(request: HttpRequest) -> HttpResponse | None:
    """Refuse an oversized body before reading it, and parse it here (not inside the CSRF check) so that
    too much form text gets our clear answer instead of a bare 400."""
    if _body_too_large(request):
        return _too_large(request)
    try:
        request.POST  # noqa: B018 - parses and caches the body
        request.FILES  # noqa: B018
    except (RequestDataTooBig, TooManyFieldsSent):
        return _too_large(request)
    return None


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
        return _private(render(request, "intake/report_thanks.html", {"gone": True}))
    from django.utils.dateparse import parse_datetime

    ack_due = parse_datetime(data["ack_due"]) if data.get("ack_due") else None
    context = {
        "tracking_id": data["tracking_id"],
        "portal_url": decrypt_text(data["url"]),
        "email": decrypt_text(data["email"]),
        "ack_due": ack_due,
        "pgp": data.get("pgp"),
    }
    from psirt.pages.models import OrganizationProfile

    context["ack_business_days"] = OrganizationProfile.get().ack_business_days
    return _private(render(request, "intake/report_thanks.html", context))


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


# ---------------------------------------------------------------------------------------------- portal


@csrf_exempt  # checked by _portal, after the body size check
def portal(request: HttpRequest, token: str) -> HttpResponse:
    """The reporter portal. Never lets Django log the path (it holds the token); errors are logged by
    tracking ID instead."""
    try:
        refusal = _read_body(request) if request.method == "POST" else None
        response = refusal or cast(HttpResponse, _portal(request, token))
    except Exception:
        logger.exception("reporter portal failed (token not logged)")
        response = render(request, "errors/error.html", {"status": 500}, status=500)
    return _quiet(_private(response))


class _QuietCsrf(CsrfViewMiddleware):
    """CSRF protection that does not log the refused path (Django's logs it, and here it holds a token)."""

    def _reject(self, request: HttpRequest, reason: str) -> HttpResponse:
        logger.warning("reporter portal: request refused by CSRF protection (%s)", reason)
        return cast(HttpResponse, get_callable(settings.CSRF_FAILURE_VIEW)(request, reason=reason))


quiet_csrf_protect = decorator_from_middleware(_QuietCsrf)


@quiet_csrf_protect
@require_http_methods(["GET", "POST"])
def _portal(request: HttpRequest, token: str) -> HttpResponse:
    report = services.find_report_by_token(token)
    if report is None:
        return render(request, "intake/portal_invalid.html", status=404)
    message_form = MessageForm()
    date_form = DisclosureDateForm(initial={"date": report.proposed_disclosure_date})
    credit_form = CreditForm(initial={"credit": report.credit, "credit_anonymous": report.credit_anonymous})
    status = 200
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "message":
                message_form = MessageForm(request.POST, request.FILES)
                if message_form.is_valid():
                    services.add_reporter_message(
                        report=report,
                        body=message_form.cleaned_data["body"],
                        files=[
                            services.IncomingFile(name=f.name or "", source=f, size=f.size)
                            for f in message_form.cleaned_data["attachments"]
                        ],
                        request=request,
                    )
                    messages.success(request, _("Your message was sent to the security team."))
                    return HttpResponseRedirect(request.path)
            elif action == "date":
                date_form = DisclosureDateForm(request.POST)
                if date_form.is_valid():
                    services.propose_disclosure_date(
                        report=report, date=date_form.cleaned_data["date"], request=request
                    )
                    messages.success(request, _("Your proposed disclosure date was sent to the team."))
                    return HttpResponseRedirect(request.path)
            elif action == "credit":
                credit_form = CreditForm(request.POST)
                if credit_form.is_valid():
                    services.set_credit(
                        report=report,
                        credit=credit_form.cleaned_data["credit"],
                        anonymous=credit_form.cleaned_data["credit_anonymous"],
                        request=request,
                    )
                    messages.success(request, _("Your credit line was saved."))
                    return HttpResponseRedirect(request.path)
            else:
                messages.error(request, _("Unknown action."))
                return HttpResponseRedirect(request.path)
        except InvalidReport as exc:
            target = {"message": message_form, "date": date_form, "credit": credit_form}[action or ""]
            for field, errors in exc.errors.items():
                for error in errors:
                    target.add_error(field if field in target.fields else None, error)
        except (IntakeError, RateLimited) as exc:
            return error_response(request, exc)
        status = 422
    return render(
        request, "intake/portal.html", _portal_context(report, message_form, date_form, credit_form), status=status
    )


def _portal_context(report: Report, message_form: Any, date_form: Any, credit_form: Any) -> dict[str, Any]:
    return {
        "report": report,
        "timeline": timeline(report),
        "thread": report.messages.filter(is_internal=False).prefetch_related("attachments"),
        "files": report.attachments.filter(is_internal=False).order_by("created_at"),
        "message_form": message_form,
        "date_form": date_form,
        "credit_form": credit_form,
        "now": timezone.now(),
        "max_file_mb": settings.PSIRT_MAX_ATTACHMENT_MB,
    }


def timeline(report: Report) -> list[dict[str, Any]]:
    """The stages for the portal: each main stage with the date it was reached (or None), the current one
    marked; an exit replaces the stages not reached."""
    reached: dict[str, Any] = {Stage.RECEIVED: report.created_at}
    for event in report.events.filter(public=True, kind="stage").order_by("at"):
        reached.setdefault(event.stage, event.at)
    current = report.stage
    steps: list[dict[str, Any]] = []
    if current in EXIT_STAGES:
        order = [s for s in MAIN_STAGES if s in reached and s != Stage.CLOSED] + [Stage(current)]
    else:
        order = list(MAIN_STAGES)
    current_index = order.index(Stage(current)) if current in order else 0
    for index, stage in enumerate(order):
        steps.append(
            {
                "stage": stage,
                "label": stage.label,
                "at": reached.get(stage),
                "done": index < current_index,
                "current": index == current_index,
                "exit": stage in EXIT_STAGES,
            }
        )
    return steps


# ---------------------------------------------------------------------------------------------- desk


@lead_required
def inbox(request: HttpRequest) -> HttpResponse:
    """New reports not yet taken by a case. Leads only: to anyone else the page does not exist."""
    reports = Report.objects.filter(inbox_state=InboxState.NEW).select_related("product").order_by("-created_at")[:500]
    return render(request, "intake/desk/inbox.html", {"reports": reports, "now": timezone.now()})


@login_required
def desk_report(request: HttpRequest, public_id: str) -> HttpResponse:
    report = get_report_for(request.user, public_id, request=request)
    services.record_staff_view(report=report, user=request.user, request=request)
    context = {
        "report": report,
        "description": services.description_for_staff(report),
        "messages_all": report.messages.all().prefetch_related("attachments"),
        "attachments": report.attachments.all(),
        "events": report.events.all(),
    }
    return render(request, "intake/desk/report.html", context)


@login_required
def desk_attachment(request: HttpRequest, public_id: str, attachment_id: str) -> HttpResponseBase:
    """Always a download (never inline), with a safe name and nosniff; audited."""
    attachment = get_attachment_for(request.user, public_id, attachment_id, request=request)
    if request.method not in {"GET", "HEAD"}:
        raise Http404
    chunks = services.open_attachment(attachment=attachment, user=request.user, request=request)
    # Whatever the file is, the browser gets opaque bytes to save, under a name we sanitised on upload.
    response = StreamingHttpResponse(chunks, content_type="application/octet-stream")
    response["Content-Disposition"] = content_disposition_header(True, attachment.name or "attachment") or "attachment"
    response["Content-Length"] = str(attachment.size)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "no-store, private"
    return response

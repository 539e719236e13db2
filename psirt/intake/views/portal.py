"""The reporter portal (/r/<token>/): the report's progress, the conversation with the team, the proposed
disclosure date and the credit line. The path holds the reporter's private token, so nothing here lets Django
log it."""

from __future__ import annotations

import logging
from typing import Any, cast

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.middleware.csrf import CsrfViewMiddleware
from django.shortcuts import render
from django.urls import get_callable
from django.utils import timezone
from django.utils.decorators import decorator_from_middleware
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from psirt.counters.exceptions import RateLimited
from psirt.intake import services
from psirt.intake.advisory_links import published_advisories
from psirt.intake.exceptions import IntakeError, InvalidReport
from psirt.intake.forms import CreditForm, DisclosureDateForm, MessageForm
from psirt.intake.models import EXIT_STAGES, MAIN_STAGES, Report, Stage
from psirt.intake.views.common import (
    download_response,
    error_response,
    private_response,
    quiet_response,
    read_body,
)

logger = logging.getLogger(__name__)


@csrf_exempt  # checked by _portal, after the body size check
def portal(request: HttpRequest, token: str) -> HttpResponse:
    """The reporter portal. Never lets Django log the path (it holds the token); errors are logged by
    tracking ID instead."""
    try:
        refusal = read_body(request) if request.method == "POST" else None
        response = refusal or cast(HttpResponse, _portal(request, token))
    except Exception:
        logger.exception("reporter portal failed (token not logged)")
        response = render(request, "errors/error.html", {"status": 500}, status=500)
    return quiet_response(private_response(response))


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
    context = _portal_context(report, message_form, date_form, credit_form)
    return render(request, "intake/portal.html", {**context, "token": token}, status=status)


def portal_file(request: HttpRequest, token: str, attachment_id: str) -> HttpResponseBase:
    """A file of the reporter's own report, decrypted on the fly, through their private link. A wrong token, a
    file of another report or an internal file: 404, the same for all. Never logs the path (it holds the token),
    which is why the method is checked here rather than by a decorator that logs the refusal."""
    try:
        if request.method not in {"GET", "HEAD"}:
            return quiet_response(private_response(HttpResponseNotAllowed(["GET", "HEAD"])))
        report = services.find_report_by_token(token)
        attachment = (
            report.attachments.filter(public_id=attachment_id, is_internal=False).first()
            if report is not None
            else None
        )
        if report is None or attachment is None:
            response: HttpResponseBase = render(request, "intake/portal_invalid.html", status=404)
        else:
            chunks = services.open_reporter_attachment(report=report, attachment=attachment, request=request)
            response = download_response(attachment, chunks)
    except Exception:
        logger.exception("reporter portal file download failed (token not logged)")
        response = render(request, "errors/error.html", {"status": 500}, status=500)
    return quiet_response(private_response(response))


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
        "advisories": published_advisories(report),
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

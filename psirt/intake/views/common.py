"""What every intake page shares: the answer to a domain refusal (`error_response`, the one place for the
HTML side), the body size check made before anything reads an upload, and the headers of pages that carry a
private token."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TypeVar

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _

from psirt.counters.exceptions import RateLimited
from psirt.intake import services
from psirt.intake.exceptions import AttachmentRejected, IntakeError
from psirt.intake.models import Attachment

R = TypeVar("R", bound=HttpResponseBase)

# Form fields are small; anything far beyond the attachment limits is refused before it is read.
BODY_SLACK = 5 * 1024 * 1024


def private_response(response: R) -> R:
    """Pages that carry a private token: the token must not leak through Referer, caches or robots."""
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    response.headers["Cache-Control"] = "no-store, private"
    return response


def quiet_response(response: R) -> R:
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


def too_large_response(request: HttpRequest) -> HttpResponse:
    exc = AttachmentRejected(
        _(
            "Your submission is too large (files together may be at most %(mb)d MB, each text field far less). "
            "Nothing was saved. Go back, remove or compress files, and send again."
        )
        % {"mb": services.max_total_bytes() // (1024 * 1024)}
    )
    return error_response(request, exc)


def body_too_large(request: HttpRequest) -> bool:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return True
    return length > services.max_total_bytes() + BODY_SLACK


def read_body(request: HttpRequest) -> HttpResponse | None:
    """Refuse an oversized body before reading it, and parse it here (not inside the CSRF check) so that
    too much form text gets our clear answer instead of a bare 400."""
    if body_too_large(request):
        return too_large_response(request)
    try:
        request.POST  # noqa: B018 - parses and caches the body
        request.FILES  # noqa: B018
    except (RequestDataTooBig, TooManyFieldsSent):
        return too_large_response(request)
    return None


def download_response(attachment: Attachment, chunks: Iterator[bytes]) -> StreamingHttpResponse:
    """A file of a report, for the desk and the reporter alike: always a download (never inline), under the name
    sanitised on upload, as opaque bytes with nosniff, a sandbox CSP, and never cached."""
    response = StreamingHttpResponse(chunks, content_type="application/octet-stream")
    response["Content-Disposition"] = content_disposition_header(True, attachment.name or "attachment") or "attachment"
    response["Content-Length"] = str(attachment.size)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "no-store, private"
    return response

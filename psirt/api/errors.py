"""Errors → HTTP, in one place and in one shape for the whole API.

Every error answer is a `Problem`: `{"detail": "<what went wrong, for a person>", "errors": {field: [messages]}}`
(`errors` empty when no field is at fault). That holds for the framework's own answers too: a bad parameter
(422), an unknown path under /api/ (404), a wrong method (405), a missing token (401), a rate limit (429, with
Retry-After), JSON nested too deeply to read (400), a full disk (503, with Retry-After) and any other failure
(500): never Django's HTML error page under /api/. Domain errors of the apps also keep `message` (same text as
`detail`), the key their clients were given first.

Every app's domain exceptions derive from `psirt.lib.errors.DomainError`: `status` (HTTP code) and `message`
(safe to show); field problems add `errors` (field → messages) and rate limits `retry_after` (seconds). The one
handler below maps that base, so the apps' routers just raise."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.core.signals import got_request_exception
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import HttpError, Throttled, ValidationError

from psirt.lib.api import problem
from psirt.lib.errors import DISK_FULL_RETRY_AFTER, DomainError, is_disk_full

logger = logging.getLogger("django.request")


def problem_response(
    api: NinjaAPI,
    request: HttpRequest,
    status: int,
    detail: str,
    errors: dict[str, list[str]] | None = None,
    **extra: object,
) -> HttpResponse:
    return api.create_response(request, {**problem(detail, errors), **extra}, status=status)


def domain_error_response(api: NinjaAPI, request: HttpRequest, exc: DomainError) -> HttpResponse:
    status = exc.status
    message = str(exc.message or exc)
    body: dict[str, Any] = {"detail": message, "message": message, "errors": exc.errors}
    retry_after = exc.retry_after
    if retry_after is not None:
        body["retry_after"] = retry_after
    response = api.create_response(request, body, status=status)
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return response


def _field_name(loc: object) -> str:
    """("query", "limit") → "limit"; ("body", "payload", "title") → "payload.title"; the source alone when
    the whole part is wrong (e.g. a body that is not JSON)."""
    parts = [str(p) for p in (loc if isinstance(loc, list | tuple) else [loc])]
    return ".".join(parts[1:]) or (parts[0] if parts else "request")


def validation_errors(exc: ValidationError) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for item in exc.errors:
        errors.setdefault(_field_name(item.get("loc", ())), []).append(str(item.get("msg", "Invalid value.")))
    return errors


def register(api: NinjaAPI) -> None:
    """Install the handlers on the API instance."""

    def handle_domain(request: HttpRequest, exc: DomainError) -> HttpResponse:
        return domain_error_response(api, request, exc)

    def handle_validation(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        errors = validation_errors(exc)
        fields = ", ".join(sorted(errors)) or "the request"
        return problem_response(api, request, 422, f"Invalid value for {fields}: see `errors`.", errors)

    def handle_http(request: HttpRequest, exc: HttpError) -> HttpResponse:
        response = problem_response(api, request, exc.status_code, exc.message)
        if isinstance(exc, Throttled) and exc.wait is not None:
            response.headers["Retry-After"] = str(exc.wait)
        return response

    api.add_exception_handler(DomainError, handle_domain)  # type: ignore[arg-type]
    api.add_exception_handler(ValidationError, handle_validation)  # type: ignore[arg-type]
    api.add_exception_handler(HttpError, handle_http)  # type: ignore[arg-type]
    api.add_exception_handler(
        RequestDataTooBig,
        lambda request, exc: problem_response(api, request, 413, "The request body is too large."),
    )
    api.add_exception_handler(
        TooManyFieldsSent,
        lambda request, exc: problem_response(api, request, 400, "Too many fields."),
    )
    api.add_exception_handler(Http404, lambda request, exc: problem_response(api, request, 404, "Not found."))

    def handle_recursion(request: HttpRequest, exc: RecursionError) -> HttpResponse:
        # json.loads and the validators recurse once per level: a body of 100 000 "[" ends here.
        return problem_response(api, request, 400, "The JSON body is nested too deeply.")

    def handle_unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
        if is_disk_full(exc):
            logger.error("Disk full while answering %s", request.path, exc_info=exc)
            response = problem_response(
                api,
                request,
                503,
                "The server cannot store anything right now (its disk is full). Send the request again later.",
            )
            response.headers["Retry-After"] = str(DISK_FULL_RETRY_AFTER)
            return response
        # As Django does for an unhandled exception (the signal lets the test client re-raise it; the log
        # reaches the operators), but answered in the API's own shape.
        got_request_exception.send(sender=None, request=request)
        logger.error("Internal Server Error: %s", request.path, exc_info=exc)
        return problem_response(api, request, 500, "Something went wrong on our side; the operators have been told.")

    api.add_exception_handler(RecursionError, handle_recursion)  # type: ignore[arg-type]
    api.add_exception_handler(Exception, handle_unexpected)  # type: ignore[arg-type]

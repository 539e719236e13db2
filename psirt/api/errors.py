"""Domain exceptions → HTTP, in one place for the whole API.

Every app's domain exceptions carry `status` (HTTP code) and `message` (safe to show); field problems add
`errors` (field → messages) and rate limits `retry_after` (seconds). An app registers its base exception
class here (DOMAIN_EXCEPTIONS) and its routers just raise."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI

from psirt.cases.exceptions import CaseError
from psirt.intake.exceptions import IntakeError

DOMAIN_EXCEPTIONS: tuple[type[Exception], ...] = (IntakeError, CaseError)


def domain_error_response(api: NinjaAPI, request: HttpRequest, exc: Exception) -> HttpResponse:
    status = int(getattr(exc, "status", 400))
    body: dict[str, Any] = {"message": str(getattr(exc, "message", "") or exc)}
    errors = getattr(exc, "errors", None)
    if errors:
        body["errors"] = errors
    retry_after = getattr(exc, "retry_after", None)
    if retry_after is not None:
        body["retry_after"] = retry_after
    response = api.create_response(request, body, status=status)
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return response


def register(api: NinjaAPI) -> None:
    """Install the handlers on the API instance."""

    def handle(request: HttpRequest, exc: Exception | type[Exception]) -> HttpResponse:
        return domain_error_response(api, request, exc if isinstance(exc, Exception) else exc())

    for exc_class in DOMAIN_EXCEPTIONS:
        api.add_exception_handler(exc_class, handle)
    api.add_exception_handler(
        RequestDataTooBig,
        lambda request, exc: api.create_response(request, {"message": "The request body is too large."}, status=413),
    )
    api.add_exception_handler(
        TooManyFieldsSent,
        lambda request, exc: api.create_response(request, {"message": "Too many fields."}, status=400),
    )
    api.add_exception_handler(
        Http404, lambda request, exc: api.create_response(request, {"message": "Not found."}, status=404)
    )

"""Every app's domain error reaches an API client as its own status, in the one Problem shape."""

from __future__ import annotations

import pytest
from ninja import NinjaAPI
from ninja.testing import TestClient

from psirt.accounts.exceptions import AccountError, EmailTaken
from psirt.advisories.csaf.importer.base import Refused
from psirt.advisories.csaf.provider.layout import ProviderError
from psirt.advisories.exceptions import AdvisoryError, EmbargoNotReached, NotAllowed
from psirt.api import errors
from psirt.cases.exceptions import CaseError, ReferenceTaken
from psirt.catalog.exceptions import CatalogError, CatalogInUse
from psirt.counters.exceptions import RateLimited
from psirt.intake.exceptions import IntakeError, InvalidReport
from psirt.lib.errors import DomainError
from psirt.notify.exceptions import NotifyError
from psirt.notify.services.webhooks import AddressRefused, WebhookError

CASES: list[tuple[DomainError, int]] = [
    (AccountError("Unknown role."), 400),
    (EmailTaken("That address is taken."), 409),
    (CatalogError("Refused."), 400),
    (CatalogInUse("Still used."), 409),
    (IntakeError("Refused."), 400),
    (InvalidReport({"title": ["Required."]}), 422),
    (RateLimited(retry_after=90), 429),
    (CaseError("Refused."), 400),
    (ReferenceTaken("Taken."), 409),
    (AdvisoryError("Refused."), 400),
    (NotAllowed("Not yours."), 403),
    (EmbargoNotReached("Not yet."), 409),
    (Refused("Not a CSAF document."), 422),
    (ProviderError("No year."), 422),
    (NotifyError("Choose a product."), 400),
    (WebhookError("HTTP 500"), 502),
    (AddressRefused("address refused"), 422),
]


def client_raising(exc: DomainError) -> TestClient:
    api = NinjaAPI(urls_namespace=f"domain-errors-{id(exc)}")
    errors.register(api)

    @api.get("/boom")
    def boom(request: object) -> None:
        raise exc

    return TestClient(api)


@pytest.mark.parametrize(("exc", "status"), CASES, ids=[type(e).__qualname__ + str(s) for e, s in CASES])
def test_every_apps_domain_error_is_a_problem_with_its_status(exc: DomainError, status: int) -> None:
    response = client_raising(exc).get("/boom")
    assert response.status_code == status
    body = response.json()
    assert body["detail"] == str(exc.message) and body["detail"]
    assert isinstance(body["errors"], dict)
    assert body["errors"] == exc.errors
    if exc.retry_after is not None:
        assert response["Retry-After"] == str(exc.retry_after)


def test_every_app_exception_base_derives_from_the_one_domain_error() -> None:
    for base in (AccountError, CatalogError, IntakeError, CaseError, AdvisoryError, Refused, ProviderError):
        assert issubclass(base, DomainError)
    assert issubclass(NotifyError, DomainError) and issubclass(WebhookError, DomainError)

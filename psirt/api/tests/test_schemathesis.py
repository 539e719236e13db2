"""Schemathesis against our own OpenAPI description: every GET operation that needs no account, called in
process through the WSGI app over the demo data, never answers 5xx and always answers what the description
says (status code, content type, body schema).

Bounded and repeatable: a fixed number of examples per operation, derandomized (a fixed seed), no example
database. Each operation runs twice: with generated parameters, and with the path parameters of real public
rows, so the 200 answers are checked too and not only the 404s."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from psirt.advisories.models import Advisory
from psirt.api.tests.conftest import load_demo

pytestmark = pytest.mark.django_db

EXAMPLES = 25
# Operations with parameters that have a type or bounds (limit, offset), so invalid values exist; the others
# take free text, which the operation itself judges (and the positive run covers).
CONSTRAINED = {"/api/v1/advisories", "/api/v1/products"}
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def _public_get_operations(schema: Any) -> list[Any]:
    operations = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.method.upper() == "GET" and not operation.definition.raw.get("security"):
            operations.append(operation)
    return operations


def _run(operation: Any, mode: GenerationMode = GenerationMode.POSITIVE, **fixed: Any) -> None:
    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode, **fixed))
    def check(case: Any) -> None:
        case.call_and_validate(checks=CHECKS)

    check()


@pytest.fixture
def wsgi_app() -> Iterator[Any]:
    """The project's WSGI application, called in this thread inside the test's transaction. As Django's test
    client does, the end of a request must not close the database connection (it would end the transaction
    that holds the demo data; PostgreSQL then answers "the connection is closed")."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def test_public_get_operations_conform_to_the_openapi_description(settings: Any, wsgi_app: Any) -> None:
    load_demo(settings)
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", wsgi_app)
    operations = _public_get_operations(schema)
    paths = {op.path for op in operations}
    assert {
        "/api/v1/advisories",
        "/api/v1/advisories/{advisory_id}",
        "/api/v1/advisories/{advisory_id}/revisions",
        "/api/v1/products",
        "/api/v1/products/{slug}",
        "/api/v1/products/{slug}/releases",
        "/api/v1/advisories/{advisory_id}/csaf",
        "/api/v1/advisories/{advisory_id}/cve/{cve_id}",
        "/api/v1/affected",
        "/api/v1/cvss",
    } <= paths
    assert "/api/v1/cases" not in paths  # needs a token: not part of this run

    published = Advisory.objects.filter(state="published").exclude(identifiers="").order_by("advisory_id").first()
    withdrawn = Advisory.objects.filter(state="withdrawn").first()
    assert published is not None and published.cve_ids and withdrawn is not None
    slug = published.affected.first().product.slug  # type: ignore[union-attr]
    real = [
        {"advisory_id": published.advisory_id, "cve_id": published.cve_ids[0], "slug": slug},
        {"advisory_id": withdrawn.advisory_id, "cve_id": (withdrawn.cve_ids or ["CVE-2026-0001"])[0], "slug": slug},
    ]
    for operation in operations:
        _run(operation)
        if operation.path in CONSTRAINED:
            # Invalid parameters too (a limit of -3, an offset of "x"): a declared 4xx Problem, never a 500.
            _run(operation, GenerationMode.NEGATIVE)
        names = [p.name for p in operation.path_parameters]
        if names:
            for values in real:
                _run(operation, path_parameters={name: values[name] for name in names})

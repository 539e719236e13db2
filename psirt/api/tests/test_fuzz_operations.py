"""Schemathesis over every operation of the OpenAPI description — the public reads, the public report
submission (JSON and multipart) and every token-protected read and write — with a lead's token that holds every
scope. Whatever is generated, valid or not, the answer is never a 5xx and always JSON (a result or a Problem).

Bounded and repeatable: a fixed number of examples per operation, derandomized, no example database. The
operations are read from the description itself, so an operation added later is fuzzed without touching this
file. Each operation with path parameters also runs with the ids of real rows (a case the token sees, a
published advisory, a product), so the writes get past the 404 and into the services."""

from __future__ import annotations

import time
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

from psirt.accounts.access import SCOPES
from psirt.accounts.models import Role, User
from psirt.accounts.services import create_token
from psirt.advisories.models import Advisory
from psirt.api.tests.conftest import load_demo
from psirt.api.tests.test_schemathesis import wsgi_app  # noqa: F401  (the in-process WSGI app fixture)
from psirt.cases.services import cases as case_services
from psirt.catalog.models import FirmwareRelease, Product
from psirt.regulatory.models import Obligation
from psirt.tests.factories import submit_test_report

pytestmark = pytest.mark.django_db

EXAMPLES = 6
# The whole run (about forty operations, two or three runs each) stays well inside this on a loaded machine.
BUDGET_SECONDS = 240
JSON_TYPES = ("application/json", "application/problem+json")
# (method, path template) → the statuses seen, to show the writes got past validation into the services.
SEEN: dict[tuple[str, str], set[int]] = {}


def _operations(schema: Any) -> list[Any]:
    return [result.ok() for result in schema.get_all_operations()]


def _check(case: Any, headers: dict[str, str]) -> None:
    response = case.call(headers=headers)
    SEEN.setdefault((case.method.upper(), case.operation.path), set()).add(response.status_code)
    where = f"{case.method} {case.formatted_path} → {response.status_code}"
    assert response.status_code < 500, f"{where}: {response.text[:500]}"
    found = [v for k, v in response.headers.items() if k.lower() == "content-type"] or [""]
    content_type = found[0][0] if isinstance(found[0], list) else found[0]
    if response.status_code not in (204, 304) and response.content:
        assert content_type.split(";")[0].strip() in JSON_TYPES, f"{where}: {content_type}"


def _run(operation: Any, headers: dict[str, str], mode: GenerationMode, **fixed: Any) -> None:
    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode, **fixed))
    def check(case: Any) -> None:
        _check(case, headers)

    check()


def _world(settings_: Any) -> tuple[dict[str, str], dict[str, str]]:
    """The demo data, a case the lead sees, a report waiting in the inbox; the lead's token with every scope."""
    load_demo(settings_)
    lead = User.objects.filter(role=Role.LEAD, is_active=True).order_by("pk").first()
    assert lead is not None
    product = Product.objects.filter(is_public=True).order_by("pk").first() or Product.objects.order_by("pk").first()
    report = submit_test_report(product, description="Overflow in the RTSP server.").report
    case = case_services.open_case(report=report, actor=lead, title="RTSP overflow", assignees=[lead])
    submit_test_report(product, description="A second report, still in the inbox.")
    _row, token = create_token(user=lead, name="fuzz", scopes=list(SCOPES))
    published = Advisory.objects.filter(state="published").exclude(identifiers="").order_by("advisory_id").first()
    assert published is not None and published.cve_ids
    slug = published.affected.first().product.slug  # type: ignore[union-attr]
    real = {
        "case_id": str(case.public_id),
        "advisory_id": published.advisory_id,
        "cve_id": published.cve_ids[0],
        "slug": slug,
        # The demo's regulatory obligations (one exists for each exploited demo case).
        "obligation_id": str(Obligation.objects.order_by("pk").values_list("public_id", flat=True).first()),
        # A release of the demo catalog (its bill of materials is uploaded through the API).
        "release_id": str(FirmwareRelease.objects.order_by("pk").values_list("public_id", flat=True).first()),
    }
    return {"Authorization": f"Bearer {token}"}, real


def test_every_operation_answers_json_and_never_5xx(settings: Any, wsgi_app: Any) -> None:  # noqa: F811
    headers, real = _world(settings)
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", wsgi_app)
    operations = _operations(schema)
    methods = {(op.method.upper(), op.path) for op in operations}
    # The token-protected writes and the public submission are part of the run, not only the public reads.
    assert {
        ("POST", "/api/v1/reports"),
        ("POST", "/api/v1/cases"),
        ("POST", "/api/v1/cases/{case_id}/transition"),
        ("PUT", "/api/v1/cases/{case_id}/cvss"),
        ("POST", "/api/v1/cases/{case_id}/messages"),
        ("DELETE", "/api/v1/cases/{case_id}/references"),
        ("GET", "/api/v1/cases/{case_id}"),
    } <= methods
    started = time.monotonic()
    for operation in operations:
        _run(operation, headers, GenerationMode.POSITIVE)
        names = [p.name for p in operation.path_parameters]
        if names:
            fixed = {"path_parameters": {name: real[name] for name in names}}
            _run(operation, headers, GenerationMode.POSITIVE, **fixed)
            if operation.method.upper() != "GET":
                # Malformed bodies on a real row: a 4xx Problem, never a 500.
                _run(operation, headers, GenerationMode.NEGATIVE, **fixed)
        elif operation.method.upper() != "GET":
            _run(operation, headers, GenerationMode.NEGATIVE)
    assert time.monotonic() - started < BUDGET_SECONDS
    # Some token-protected writes on the real case succeeded: the fuzzing reached the services, not only 4xx.
    writes_done = [key for key, codes in SEEN.items() if key[0] != "GET" and any(200 <= c < 300 for c in codes)]
    assert any(path.startswith("/api/v1/cases/{case_id}") for _method, path in writes_done), SEEN

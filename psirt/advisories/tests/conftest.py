"""Fixtures of the advisory tests: a small catalog with ordered releases, confirmed cases, advisories."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone

from psirt.accounts.models import User
from psirt.advisories import services
from psirt.advisories.models import Advisory
from psirt.cases.models import Assignment, Case, CaseReference
from psirt.catalog.models import FirmwareRelease, Product, ProductLine
from psirt.tests.factories import make_line, make_product

_numbers = itertools.count(1)


@pytest.fixture
def line(db: None) -> ProductLine:
    return make_line(name_zh="网络摄像机", position=1)


@pytest.fixture
def product(line: ProductLine) -> Product:
    return make_product(line, model_numbers="X5-100, X5-200")


@pytest.fixture
def releases(product: Product) -> dict[str, FirmwareRelease]:
    """V5.4.0 < V5.5.0 < V5.5.2 < V5.6.0 < V5.10.0 (catalog order, not string order)."""
    out = {}
    for position, version in enumerate(["V5.4.0", "V5.5.0", "V5.5.2", "V5.6.0", "V5.10.0"], start=1):
        out[version] = FirmwareRelease.objects.create(
            product=product,
            version=version,
            position=position * 10,
            download_url=f"https://downloads.example.com/{version}.bin",
        )
    return out


def make_case(
    *,
    product: Product | None = None,
    state: str = "awaiting_disclosure",
    title: str = "Unauthenticated RCE in the web UI",
    disclosure_date: dt.date | None = None,
    exploitation: str = "none",
    assignee: User | None = None,
    **fields: Any,
) -> Case:
    number = next(_numbers)
    case = Case.objects.create(
        key=f"CASE-2026-{number:04d}",
        year=2026,
        number=number,
        title=title,
        state=state,
        product=product,
        product_line=product.line if product is not None else None,
        disclosure_date=disclosure_date,
        exploitation=exploitation,
        cvss31_vector=fields.pop("cvss31_vector", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"),
        **fields,
    )
    if assignee is not None:
        Assignment.objects.create(case=case, user=assignee)
    return case


@pytest.fixture
def yesterday() -> dt.date:
    return timezone.localdate() - dt.timedelta(days=1)


@pytest.fixture
def case(product: Product, handler: User, yesterday: dt.date) -> Case:
    return make_case(product=product, disclosure_date=yesterday, assignee=handler)


@pytest.fixture
def draft(case: Case, lead: User, releases: dict[str, FirmwareRelease]) -> Advisory:
    advisory = services.create_advisory(cases=[case], actor=lead)
    return services.update_advisory(
        advisory=advisory,
        actor=lead,
        changes={"summary_en": "A crafted request runs code as root.", "workarounds_en": "Block port 80."},
        affected=[
            services.AffectedInput(
                product=releases["V5.5.0"].product, introduced=releases["V5.5.0"], fixed=releases["V5.6.0"]
            )
        ],
    )


def approve(advisory: Advisory, lead: User) -> Advisory:
    advisory = services.submit_for_review(advisory=advisory, actor=lead)
    return services.approve_advisory(advisory=advisory, actor=lead)


def publish(advisory: Advisory, lead: User) -> Advisory:
    return services.publish_advisory(advisory=approve(advisory, lead), actor=lead)


@pytest.fixture
def published(draft: Advisory, lead: User) -> Advisory:
    return publish(draft, lead)


def state_on_cases(advisory: Advisory, *, refresh: bool = True) -> Advisory:
    """Make the first case of `advisory` state the facts the test wrote on the advisory (exploitation, vectors,
    CWE, identifiers), as a handler would on the case desk, so the advisory does not differ from its cases.
    `refresh=False` takes the facts of the object as given (an advisory as its open revision would change it)."""
    if refresh:
        advisory.refresh_from_db()
    case = advisory.case_links.order_by("id").first().case  # type: ignore[union-attr]
    case.exploitation = advisory.exploitation
    case.exploitation_aware_at = advisory.exploitation_aware_at
    case.cvss31_vector, case.cvss40_vector, case.cwe_id = (
        advisory.cvss31_vector,
        advisory.cvss40_vector,
        advisory.cwe_id,
    )
    case.save()
    for value in advisory.identifier_list:
        kind = value.split("-", 1)[0].lower()
        if not CaseReference.objects.filter(kind=kind, value=value).exists():
            CaseReference.objects.create(case=case, kind=kind, value=value)
    return advisory


def revise(*, advisory: Advisory, actor: User, **changes: Any) -> Advisory:
    """Edit a published advisory (with `update_advisory`'s arguments) and take the revision through review, a
    lead's approval and publication, as the desk does; `actor` must be a lead."""
    services.update_advisory(advisory=advisory, actor=actor, **changes)
    pending = services.open_revision(advisory)
    assert pending is not None
    # Facts come from the case: a handler records a new score or ID there before the advisory states it.
    state_on_cases(services.revised_advisory(advisory, pending), refresh=False)
    approve(advisory, actor)
    return services.publish_advisory(advisory=advisory, actor=actor)


@pytest.fixture
def committed(django_capture_on_commit_callbacks: Any) -> Callable[..., Any]:
    """Run a service call and then its after-commit callbacks (the CSAF tree is written after the commit)."""

    def run(fn: Callable[..., Any], **kwargs: Any) -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            return fn(**kwargs)

    return run

"""Builders of the model rows the tests share: a product line, a product, a release, a submitted report.

Each builder fills what a test does not care about with a plausible value and takes any model field as a keyword,
so a test names only what its assertions depend on. Reports go through the intake service, as a reporter's would.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from psirt.catalog.models import FirmwareRelease, Product, ProductLine
from psirt.intake.models import Report
from psirt.intake.services import IncomingFile, ReportInput, Submission, submit_report


def make_line(slug: str = "cameras", name_en: str = "IP cameras", **fields: Any) -> ProductLine:
    """A product line (`name_zh`, `position`, … as keywords)."""
    return ProductLine.objects.create(slug=slug, name_en=name_en, **fields)


def make_product(
    line: ProductLine | None = None, slug: str = "cam-x5", name: str = "Camera X5", **fields: Any
) -> Product:
    """A public product of `line` (a new default line when none is given)."""
    return Product.objects.create(line=line or make_line(), slug=slug, name=name, **fields)


def make_release(product: Product, version: str, position: int, **fields: Any) -> FirmwareRelease:
    """A firmware release of `product`, ordered by `position`."""
    return FirmwareRelease.objects.create(product=product, version=version, position=position, **fields)


def submit_test_report(
    product: Product | None = None,
    *,
    email: str = "ada@research.test",
    description: str = "Unauthenticated RCE in the web UI.",
    files: Sequence[IncomingFile] = (),
    ip: str | None = None,
    **fields: Any,
) -> Submission:
    """A report submitted through the intake service (no acknowledgment mail); other `ReportInput` fields as
    keywords."""
    values: dict[str, Any] = {"reporter_name": "Ada Researcher", "accepted_guidelines": True, **fields}
    data = ReportInput(reporter_email=email, description=description, product=product, **values)
    return submit_report(data=data, files=files, ip=ip, send_acknowledgment=False)


def make_report(product: Product | None = None, **fields: Any) -> Report:
    """A submitted report (see `submit_test_report` for the keywords)."""
    return submit_test_report(product, **fields).report


def make_report_and_token(product: Product | None = None, **fields: Any) -> tuple[Report, str]:
    """A submitted report and its reporter's private portal token."""
    submission = submit_test_report(product, **fields)
    return submission.report, submission.token

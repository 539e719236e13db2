"""Fixtures of the case tests: a small catalog, reports submitted through the intake, cases."""

from __future__ import annotations

from typing import Any

import pytest

from psirt.catalog.models import Product, ProductLine
from psirt.intake.models import Report
from psirt.intake.services import ReportInput, submit_report


@pytest.fixture
def line(db: None) -> ProductLine:
    return ProductLine.objects.create(slug="cameras", name_en="IP cameras", name_zh="网络摄像机", position=1)


@pytest.fixture
def other_line(db: None) -> ProductLine:
    return ProductLine.objects.create(slug="routers", name_en="Routers", position=2)


@pytest.fixture
def product(line: ProductLine) -> Product:
    return Product.objects.create(line=line, slug="cam-x5", name="Camera X5")


def make_report(product: Product | None = None, **overrides: Any) -> Report:
    data = ReportInput(
        reporter_name="Ada Researcher",
        reporter_email=overrides.pop("email", "ada@research.test"),
        description=overrides.pop("description", "Unauthenticated RCE in the web UI."),
        product=product,
        accepted_guidelines=True,
        **overrides,
    )
    return submit_report(data=data, send_acknowledgment=False).report


@pytest.fixture
def report(product: Product) -> Report:
    return make_report(product)

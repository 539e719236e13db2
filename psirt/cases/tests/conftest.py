"""Fixtures of the case tests: a small catalog, reports submitted through the intake, cases."""

from __future__ import annotations

import pytest

from psirt.catalog.models import Product, ProductLine
from psirt.intake.models import Report
from psirt.tests.factories import make_line, make_product, make_report


@pytest.fixture
def line(db: None) -> ProductLine:
    return make_line(name_zh="网络摄像机", position=1)


@pytest.fixture
def other_line(db: None) -> ProductLine:
    return make_line("routers", "Routers", position=2)


@pytest.fixture
def product(line: ProductLine) -> Product:
    return make_product(line)


@pytest.fixture
def report(product: Product) -> Report:
    return make_report(product)

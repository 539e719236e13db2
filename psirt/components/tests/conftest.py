"""Fixtures of the components tests: the sample files, a catalog with two products on two lines."""

from __future__ import annotations

from pathlib import Path

import pytest

from psirt.catalog.models import FirmwareRelease, ProductLine
from psirt.catalog.tests.factories import make_line, make_product, make_release

SAMPLES = Path(__file__).resolve().parents[3] / "tests-data" / "components"


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


@pytest.fixture
def line(db: None) -> ProductLine:
    return make_line("cameras")


@pytest.fixture
def releases(line: ProductLine) -> list[FirmwareRelease]:
    """Camera X5: 5.7.0, 5.7.1, 5.8.0 (oldest first)."""
    product = make_product(line, "cam-x5")
    return [make_release(product, v, position=i) for i, v in enumerate(["5.7.0", "5.7.1", "5.8.0"], start=1)]


@pytest.fixture
def other_release(db: None) -> FirmwareRelease:
    other = make_line("recorders", name_en="Recorders")
    return make_release(make_product(other, "nvr-n4", name="NVR N4"), "2.1.0", position=1)

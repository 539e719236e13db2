"""Small catalog builders for tests, through the services (as the application creates rows)."""

from __future__ import annotations

import datetime
from typing import Any

from psirt.catalog import services
from psirt.catalog.models import FirmwareRelease, Product, ProductLine


def make_line(slug: str = "cameras", **kwargs: Any) -> ProductLine:
    data = {"name_en": "IP cameras", "name_zh": "网络摄像机", "position": 1, **kwargs}
    return services.create_product_line(actor=None, slug=slug, **data)


def make_product(line: ProductLine, slug: str = "cam-x5", **kwargs: Any) -> Product:
    data = {"name": "Camera X5", "model_numbers": "X5-100, X5-200", **kwargs}
    return services.create_product(actor=None, line=line, slug=slug, **data)


def make_release(product: Product, version: str, **kwargs: Any) -> FirmwareRelease:
    data = {"release_date": datetime.date(2025, 3, 1), "download_url": "https://dl.example.com/fw.zip", **kwargs}
    return services.create_release(actor=None, product=product, version=version, **data)

"""Fixtures of the accounts tests: pages render from the source static files, URLs reverse in English."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from django.utils import translation

STATIC_SOURCE = Path(__file__).resolve().parents[2] / "static"


@pytest.fixture(autouse=True)
def _static_from_source(settings) -> None:
    """The production storage needs a collectstatic manifest; these tests render from the source tree, so
    they do not depend on whatever manifest another run left in var/."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    dirs = list(getattr(settings, "STATICFILES_DIRS", []))
    if STATIC_SOURCE not in [Path(d) for d in dirs]:
        settings.STATICFILES_DIRS = [*dirs, STATIC_SOURCE]


@pytest.fixture(autouse=True)
def _english_urls() -> Iterator[None]:
    """A request to /zh-hans/… leaves Chinese active in the thread; reverse() in the next test must not
    inherit it."""
    with translation.override("en"):
        yield

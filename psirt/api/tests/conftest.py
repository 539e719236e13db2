"""Fixtures of the API tests: the demo data set (published, revised, withdrawn and draft advisories over a
catalog with public and unlisted rows), loaded through the same services as `psirt demo`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import transaction
from django.test import override_settings

from psirt.advisories.models import Advisory
from psirt.demo import catalog as catalog_demo
from psirt.demo.advisories import load_demo_advisories

DEMO_PASSWORD = "demo-password-Quokka-42"


def _load_demo_data() -> None:
    lines: list[str] = []
    catalog_demo.load_organization(lines.append)
    catalog_demo.load_catalog(lines.append)
    catalog_demo.load_accounts(lines.append)
    load_demo_advisories(lines.append)


def load_demo(settings: Any) -> None:
    settings.PSIRT_DEMO_PASSWORD = DEMO_PASSWORD
    _load_demo_data()


@pytest.fixture(scope="module")
def _demo_data(django_db_setup: None, django_db_blocker: Any) -> Iterator[None]:
    """The demo data, loaded once per test module (publishing it through the services is the slow part) inside a
    transaction rolled back after the module's tests. Each test still runs in a savepoint of its own inside it
    (pytest-django's `db`), so every test sees the data as loaded and none sees another's changes."""
    with django_db_blocker.unblock(), override_settings(PSIRT_DEMO_PASSWORD=DEMO_PASSWORD), transaction.atomic():
        _load_demo_data()
        yield
        transaction.set_rollback(True)


@pytest.fixture
def demo(_demo_data: None, db: None) -> dict[str, Advisory]:
    """The demo data; returns one advisory per state (published, withdrawn, draft), the published one revised."""
    published = (
        Advisory.objects.filter(state="published", revisions__number=2).order_by("advisory_id").distinct().first()
    )
    assert published is not None
    return {
        "published": published,
        "withdrawn": Advisory.objects.get(state="withdrawn"),
        "draft": Advisory.objects.filter(state="draft").first(),  # type: ignore[dict-item]
    }

"""The hall of fame: each credit line of a published advisory shown as a name and an organization."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from psirt.accounts.models import User
from psirt.advisories import services
from psirt.advisories.queries import split_credit
from psirt.advisories.tests.conftest import make_case, publish
from psirt.catalog.models import FirmwareRelease, Product


@pytest.mark.parametrize(
    "line,expected",
    [
        ("Jane Doe (Example Lab)", ("Jane Doe", "Example Lab")),
        ("Jane Doe, Example Lab", ("Jane Doe", "Example Lab")),
        ("  Jane   Doe  ( Example Lab ) ", ("Jane Doe", "Example Lab")),
        ("Jane Doe, Example Lab (Berlin)", ("Jane Doe", "Example Lab (Berlin)")),
        ("张三（示例实验室）", ("张三", "示例实验室")),
        ("张三，示例实验室", ("张三", "示例实验室")),
        ("Jane Doe", ("Jane Doe", "")),
        ("Jane Doe ()", ("Jane Doe ()", "")),
        ("(Example Lab)", ("(Example Lab)", "")),
    ],
)
def test_a_credit_line_splits_into_name_and_organization(line: str, expected: tuple[str, str]) -> None:
    assert split_credit(line) == expected


@pytest.mark.django_db
def test_the_hall_of_fame_shows_name_and_organization_in_their_own_columns(
    product: Product, releases: dict[str, FirmwareRelease], lead: User, anonymous: Client
) -> None:
    case = make_case(product=product, disclosure_date=timezone.localdate() - dt.timedelta(days=1))
    advisory = services.create_advisory(cases=[case], actor=lead)
    services.update_advisory(
        advisory=advisory,
        actor=lead,
        changes={"credits_en": "Jane Doe (Example Lab)\nAnna Schmidt", "workarounds_en": "Disable UPnP."},
        affected=[services.AffectedInput(product=product, fixed=releases["V5.6.0"])],
    )
    publish(advisory, lead)
    for prefix in ("en", "zh-hans"):
        html = anonymous.get(f"/{prefix}/acknowledgments/").content.decode()
        assert "<tr><td>Jane Doe</td><td>Example Lab</td>" in html
        assert "<tr><td>Anna Schmidt</td><td></td>" in html

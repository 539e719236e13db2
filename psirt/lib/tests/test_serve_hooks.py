"""The server's warm-up in gunicorn's master: what the workers would each build on their first requests is built
once before they are forked, and an app that cannot warm up does not stop the server."""

from __future__ import annotations

import logging

import pytest
from django.apps import apps
from django.db import DatabaseError
from django.urls import get_resolver

from psirt.lib import business_days, serve_hooks
from psirt.lib.kept import forget_all
from psirt.organization.models import OrganizationProfile

pytestmark = pytest.mark.django_db


def test_warm_up_builds_the_calendar_of_the_profiles_country_and_the_url_maps(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    OrganizationProfile.objects.update_or_create(id=1, defaults={"calendar_country": "DE"})
    monkeypatch.setattr(business_days, "_tables", {})
    forget_all()
    resolver = get_resolver()
    resolver._reverse_dict.clear()
    serve_hooks.warm_up()
    assert list(business_days._tables) == [("DE", None)]
    assert {"en", "zh-hans"} <= set(resolver._reverse_dict)


def test_an_app_that_cannot_warm_up_is_logged_and_the_others_still_are(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    organization = apps.get_app_config("organization")
    warmed: list[str] = []

    def broken() -> None:
        raise DatabaseError("could not connect to server")

    monkeypatch.setattr(organization, "warm_up", broken, raising=False)
    intake = apps.get_app_config("intake")
    monkeypatch.setattr(intake, "warm_up", lambda: warmed.append("intake"), raising=False)
    with caplog.at_level(logging.WARNING, logger="psirt.lib.serve_hooks"):
        serve_hooks.warm_up()
    assert warmed == ["intake"]
    assert [r.getMessage() for r in caplog.records] == [
        "organization was not warmed up at start: could not connect to server"
    ]

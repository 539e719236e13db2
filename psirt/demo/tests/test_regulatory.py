"""The demo's regulatory part: every kind of obligation at once, and known customers for the direct notice."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from psirt.notify.models import CustomerContact
from psirt.regulatory import services
from psirt.regulatory.clocks import Track
from psirt.regulatory.models import Decision, Obligation

pytestmark = pytest.mark.django_db


def test_the_demo_shows_each_obligation_and_customers_to_tell_directly() -> None:
    out = io.StringIO()
    call_command("demo", force=True, vendor="visiontek", stdout=out, stderr=out)
    assert "customer organizations" in out.getvalue()
    tracks = list(Obligation.objects.values_list("track", flat=True))
    assert tracks.count(Track.VULNERABILITY) == 3
    assert tracks.count(Track.INCIDENT) == tracks.count(Track.MIIT) == 1
    # Every exploited case's direct notice names real recipients, in both languages.
    for obligation in Obligation.objects.filter(track=Track.VULNERABILITY):
        assert services.known_customers(obligation) >= 3, obligation.title
    assert set(CustomerContact.objects.values_list("language", flat=True)) == {"en", "zh-hans"}
    # Loading again adds nothing.
    call_command("demo", vendor="visiontek", stdout=io.StringIO(), stderr=io.StringIO())
    assert CustomerContact.objects.count() == 4
    assert Obligation.objects.exclude(decision=Decision.NOT_REPORTABLE).count() == 5

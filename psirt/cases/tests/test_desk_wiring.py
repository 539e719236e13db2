"""The case desk where staff land: the desk home shows the panel, the inbox offers triage, the nav has Cases."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from psirt.tests.factories import make_report


def test_desk_home_shows_the_case_panel(as_handler: Client) -> None:
    html = as_handler.get(reverse("desk:home")).content.decode()
    assert reverse("desk:cases:list") in html  # nav link
    assert 'class="case-dashboard' in html


def test_inbox_rows_link_to_triage(as_lead: Client, product) -> None:
    report = make_report(product)
    html = as_lead.get(reverse("desk:intake:inbox")).content.decode()
    assert reverse("desk:cases:triage", args=[report.public_id]) in html

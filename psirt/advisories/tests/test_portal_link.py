"""The reporter's portal links to the advisory once it is published (the advisories app provides the link to
the intake, which sits below it)."""

from __future__ import annotations

import pytest
from django.test import Client

from psirt.advisories.models import Advisory, AdvisoryState
from psirt.cases.models import Case, CaseReport
from psirt.tests.factories import make_report_and_token

pytestmark = pytest.mark.django_db


def _portal_with_report_in(case: Case) -> tuple[Client, str]:
    report, token = make_report_and_token(case.product)
    CaseReport.objects.create(case=case, report=report)
    return Client(), f"/en/r/{token}/"


def test_no_link_while_the_advisory_is_a_draft(draft: Advisory) -> None:
    client, url = _portal_with_report_in(draft.cases.get())
    html = client.get(url).content.decode()
    assert draft.advisory_id not in html
    assert 'id="portal-advisories"' not in html


def test_link_once_published(published: Advisory) -> None:
    client, url = _portal_with_report_in(published.cases.get())
    html = client.get(url).content.decode()
    assert 'id="portal-advisories"' in html
    assert f'href="{published.get_absolute_url()}"' in html and published.get_absolute_url().startswith("/en/")
    assert published.advisory_id in html


def test_link_in_the_portals_language(published: Advisory) -> None:
    report, token = make_report_and_token(published.cases.get().product)
    CaseReport.objects.create(case=published.cases.get(), report=report)
    html = Client().get(f"/zh-hans/r/{token}/").content.decode()
    assert f'href="/zh-hans/{published.get_absolute_url().split("/", 2)[2]}' in html


def test_withdrawn_advisory_is_not_linked(published: Advisory) -> None:
    Advisory.objects.filter(pk=published.pk).update(state=AdvisoryState.WITHDRAWN)
    client, url = _portal_with_report_in(published.cases.get())
    assert published.advisory_id not in client.get(url).content.decode()


def test_another_reporters_portal_shows_no_link(published: Advisory) -> None:
    _report, token = make_report_and_token(published.cases.get().product, email="other@research.test")
    html = Client().get(f"/en/r/{token}/").content.decode()
    assert published.advisory_id not in html

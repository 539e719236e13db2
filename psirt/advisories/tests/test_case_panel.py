"""What the case page shows of advisories: "Write advisory" for those who may start one from the case (leads and
its handlers, once confirmed), and the case's advisories in the summary strip — linked on the desk for those who
may open them, to the public page once published, and not at all to anyone else."""

from __future__ import annotations

import re

import pytest

from conftest import _make_user, client_for
from psirt.accounts.models import Role, User
from psirt.advisories.models import Advisory
from psirt.advisories.tests.conftest import make_case, publish
from psirt.cases.models import Case
from psirt.cases.services import cases as case_services
from psirt.catalog.models import Product

pytestmark = pytest.mark.django_db


def case_page(user: User, case: Case) -> str:
    response = client_for(user).get(f"/en/desk/cases/{case.public_id}/")
    assert response.status_code == 200
    return response.content.decode()


def strip_advisories(html: str) -> str:
    match = re.search(r'<div class="strip-item" id="strip-advisories">(.*?)</div>', html, re.S)
    assert match
    return match.group(1)


def test_write_advisory_links_to_the_draft_form_with_this_case(case: Case, handler: User, lead: User) -> None:
    for user in (handler, lead):
        html = case_page(user, case)
        assert f'href="/en/desk/advisories/new/?case={case.public_id}"' in html
    form = client_for(handler).get(f"/en/desk/advisories/new/?case={case.public_id}")
    assert form.status_code == 200 and case.key in form.content.decode()


def test_no_write_advisory_before_confirmation_or_for_engineers(product: Product, handler: User, lead: User) -> None:
    early = make_case(product=product, state="triage", assignee=handler)
    assert "write-advisory" not in case_page(handler, early)
    engineer = _make_user("invited@panel.test", Role.ENGINEER)
    confirmed = make_case(product=product, state="confirmed", assignee=handler)
    case_services.invite_engineer(case=confirmed, engineer=engineer, actor=lead)
    assert "write-advisory" not in case_page(engineer, confirmed)
    assert "write-advisory" in case_page(handler, confirmed)


def test_the_strip_lists_the_case_advisories_by_who_may_see_them(
    case: Case, draft: Advisory, handler: User, lead: User
) -> None:
    engineer = _make_user("invited@panel.test", Role.ENGINEER)
    case_services.invite_engineer(case=case, engineer=engineer, actor=lead)
    desk_link = f'href="/en/desk/advisories/{draft.public_id}/"'
    assert draft.advisory_id in strip_advisories(case_page(handler, case))
    assert desk_link in strip_advisories(case_page(handler, case))
    # A draft is need-to-know of its authors: the invited engineer does not learn of it.
    assert draft.advisory_id not in case_page(engineer, case)
    published = publish(draft, lead)
    strip = strip_advisories(case_page(engineer, case))
    assert published.advisory_id in strip and f'href="{published.get_absolute_url()}"' in strip

"""A text search's page and count from one pass: the same page, count and page numbers as Django's paginator."""

from __future__ import annotations

import pytest
from django.core.paginator import Paginator
from django.test import Client

from psirt.cases.models import Case
from psirt.cases.paging import one_pass_page

pytestmark = pytest.mark.django_db


@pytest.fixture
def cases(db: None) -> None:
    for n in range(1, 24):
        word = "rtsp" if n % 3 else "telnet"
        Case.objects.create(key=f"CASE-2027-{n:04d}", year=2027, number=n, title=f"{word.upper()} issue {n}")


@pytest.mark.parametrize("number", ["1", "2", "3", "4", "999", "0", "-1", "abc", "", "2.0"])
@pytest.mark.parametrize("term", ["rtsp", "telnet", "nothing-matches"])
def test_one_pass_page_answers_what_the_paginator_answers(cases: None, number: str, term: str) -> None:
    qs = Case.objects.filter(title__icontains=term).order_by("-number")
    expected = Paginator(qs, 5).get_page(number)
    page = one_pass_page(qs, number, 5)
    assert page.number == expected.number
    assert page.paginator.count == expected.paginator.count
    assert page.paginator.num_pages == expected.paginator.num_pages
    assert [c.key for c in page.object_list] == [c.key for c in expected.object_list]


def test_the_case_list_search_counts_and_lists_every_match(cases: None, lead) -> None:
    from conftest import client_for

    client: Client = client_for(lead)
    matches = [f"CASE-2027-{n:04d}" for n in range(1, 24) if n % 3]
    for number in ("1", "2", "x"):  # 50 a page: one page, which a page out of range or not a number also shows
        page = client.get(f"/en/desk/cases/?q=RTSP&sort=key&page={number}").context["page"]
        assert page.paginator.count == len(matches) == 16 and page.number == 1
        assert [c.key for c in page.object_list] == matches

"""The site chrome rendered once per process and key (`{% memo %}`): the same page as rendered each time, and
every change of what it shows visible on the very next request."""

from __future__ import annotations

import datetime as dt

import pytest
from django.template import Context, Template, TemplateSyntaxError, defaulttags
from django.test import Client
from django.utils import translation

from psirt.accounts.models import User
from psirt.organization.services import update_organization
from psirt.pages.templatetags import psirt_memo

pytestmark = pytest.mark.django_db


def render(source: str, **values: object) -> str:
    return Template("{% load psirt_memo %}" + source).render(Context(values))


def test_a_part_is_rendered_once_per_key_and_sees_only_its_key() -> None:
    psirt_memo.clear()
    calls: list[str] = []

    class Counted:
        def __str__(self) -> str:
            calls.append("rendered")
            return "Acme"

    name = Counted()
    source = '{% memo "t" who=name %}[{{ who }}|{{ secret }}]{% endmemo %}'
    assert render(source, name=name, secret="hidden") == "[Acme|]"
    assert render(source, name=name, secret="hidden") == "[Acme|]"
    assert calls == ["rendered"]  # the second page reused the part
    assert render(source, name="Other") == "[Other|]"  # another key, another rendering


def test_the_language_is_part_of_every_key() -> None:
    psirt_memo.clear()
    source = '{% load i18n %}{% memo "t" %}{% translate "Advisories" %}{% endmemo %}'
    with translation.override("en"):
        assert render(source) == "Advisories"
    with translation.override("zh-hans"):
        assert render(source) == "安全公告"


@pytest.mark.parametrize(
    "source",
    [
        "{% memo %}x{% endmemo %}",
        "{% memo footer %}x{% endmemo %}",
        '{% memo "t" a %}x{% endmemo %}',
        '{% memo "t" a=1 a=2 %}x{% endmemo %}',
        '{% memo "t" %}{% block b %}x{% endblock %}{% endmemo %}',
        '{% memo "t" %}{% csrf_token %}{% endmemo %}',
    ],
)
def test_a_malformed_or_unsafe_part_is_refused(source: str) -> None:
    with pytest.raises(TemplateSyntaxError):
        Template("{% load psirt_memo %}" + source)


def test_an_organization_edit_shows_on_the_next_request(anonymous: Client) -> None:
    update_organization(actor=None, name_en="Acme Devices", security_email="psirt@acme.example")
    html = anonymous.get("/en/advisories/").content.decode()
    assert "<strong>Acme Devices</strong>" in html and "mailto:psirt@acme.example" in html
    update_organization(
        actor=None, name_en="Zenith Cameras", security_email="security@zenith.example", footer_en="Zenith Ltd."
    )
    html = anonymous.get("/en/advisories/").content.decode()
    assert "Acme Devices" not in html and "psirt@acme.example" not in html
    assert "<strong>Zenith Cameras</strong>" in html and "Zenith Cameras Security Response Center" in html
    assert "mailto:security@zenith.example" in html and '<span class="footer-line">Zenith Ltd.</span>' in html


def test_the_footer_follows_the_visitor_and_the_navigation_the_page(anonymous: Client, lead: User) -> None:
    assert "Staff sign-in" in anonymous.get("/en/advisories/").content.decode()
    signed_in = Client()
    signed_in.force_login(lead)
    html = signed_in.get("/en/advisories/").content.decode()
    assert "Staff sign-in" not in html and "Back office" in html
    assert "Staff sign-in" in anonymous.get("/en/advisories/").content.decode()
    advisories = anonymous.get("/en/advisories/").content.decode()
    policy = anonymous.get("/en/policy/").content.decode()
    assert 'href="/en/advisories/" aria-current="page"' in advisories
    assert 'href="/en/advisories/" aria-current="page"' not in policy


def test_the_year_in_the_footer_follows_the_clock(anonymous: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    year = dt.datetime.now().year
    assert f"© {year} " in anonymous.get("/en/policy/").content.decode()

    class NextYear(dt.datetime):
        @classmethod
        def now(cls, tz: dt.tzinfo | None = None) -> NextYear:  # type: ignore[override]
            return cls(year + 1, 6, 1, tzinfo=tz)

    monkeypatch.setattr(defaulttags, "datetime", NextYear)  # the clock {% now %} reads
    html = anonymous.get("/en/policy/?again").content.decode()
    assert f"© {year + 1} " in html and f"© {year} " not in html


def test_site_data_is_kept_under_the_generation_the_request_read() -> None:
    from django.test import RequestFactory

    from psirt.pages import generation

    calls: list[int] = []

    def compute() -> int:
        calls.append(1)
        return len(calls)

    unversioned = RequestFactory().get("/en/")
    assert generation.kept_for(unversioned, "k", compute) == 1
    assert generation.kept_for(unversioned, "k", compute) == 2  # no token read: nothing kept
    first, second, after_change = (RequestFactory().get("/en/") for _ in range(3))
    generation.note(first, "t1")
    generation.note(second, "t1")
    generation.note(after_change, "t2")
    assert generation.kept_for(first, "k", compute) == 3
    assert generation.kept_for(second, "k", compute) == 3  # same generation: read once
    assert generation.kept_for(after_change, "k", compute) == 4  # the next generation reads afresh

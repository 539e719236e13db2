"""The active catalog, language, URL configuration and script prefix are read once per template rendering
(psirt.lib.render_env) by the tags that key on them, and a rendering still follows every switch of them."""

from __future__ import annotations

from typing import Any

import pytest
from django.template import Context, Template
from django.urls import set_urlconf
from django.utils import translation
from django.utils.translation import trans_real

from psirt.lib import render_env

PAGE = (
    "{% load i18n psirt_memo %}"
    '{% translate "Advisories" %}|{% translate "Security" %}|{% url "pages:home" %}|{% url "advisories:list" %}|'
    '{% memo "test-render-env" %}{% translate "Advisories" %}{% endmemo %}'
)


def test_a_rendering_reads_the_catalog_and_the_language_once(monkeypatch: pytest.MonkeyPatch) -> None:
    template = Template(PAGE)
    with translation.override("en"):
        template.render(Context())  # the memo part rendered and every text kept
        reads: list[str] = []

        def counted(name: str, read: Any) -> Any:
            def wrapper() -> Any:
                reads.append(name)
                return read()

            return wrapper

        monkeypatch.setattr(trans_real, "catalog", counted("catalog", trans_real.catalog))
        monkeypatch.setattr(render_env, "get_language", counted("language", render_env.get_language))
        monkeypatch.setattr(render_env, "get_urlconf", counted("urlconf", render_env.get_urlconf))
        assert template.render(Context()) == "Advisories|Security|/en/|/en/advisories/|Advisories"
        assert sorted(reads) == ["catalog", "language", "urlconf"]


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_each_rendering_of_one_context_follows_the_active_language(language: str) -> None:
    template = Template(PAGE)
    context = Context()
    other = "zh-hans" if language == "en" else "en"
    with translation.override(language):
        first = template.render(context)
    with translation.override(other):
        second = template.render(context)
    with translation.override(other):
        assert second == Template(PAGE).render(Context())
    assert first != second and ("/zh-hans/" in first) == (language == "zh-hans")


def test_the_language_tag_renders_its_body_in_its_language_and_the_rest_in_the_page_s() -> None:
    source = (
        '{% load i18n %}{% translate "Advisories" %}|{% url "pages:home" %}|'
        '{% language "zh-hans" %}{% translate "Advisories" %}|{% url "pages:home" %}{% endlanguage %}|'
        '{% translate "Advisories" %}|{% url "pages:home" %}'
    )
    with translation.override("zh-hans"):
        chinese = Template('{% load i18n %}{% translate "Advisories" %}').render(Context())
    assert chinese != "Advisories"
    with translation.override("en"):
        rendered = Template(source).render(Context())
    assert rendered == f"Advisories|/en/|{chinese}|/zh-hans/|Advisories|/en/"


def test_another_url_configuration_set_before_a_rendering_is_followed() -> None:
    template = Template('{% url "bench-trivial" as found %}[{{ found }}]')
    with translation.override("en"):
        assert template.render(Context()) == "[]"
        set_urlconf("psirt.lib.tests.urls_render_env")
        try:
            assert template.render(Context()) == "[/trivial/]"
        finally:
            set_urlconf(None)
        assert template.render(Context()) == "[]"

"""The project's `i18n` template library: Django's tags, with constant `{% translate %}` texts kept per catalog.
Every form renders what Django's own library renders, in each language, and a kept text follows the catalog."""

from __future__ import annotations

import pytest
from django.template import Context, Engine, Template
from django.templatetags import i18n as django_i18n
from django.utils import translation

from psirt.lib import i18n_tags

SOURCES = [
    '{% translate "Advisories" %}',
    "{% translate 'Advisories' %}",
    '{% trans "Advisories" %}',
    '{% translate "100% of <b>x</b>" %}',
    '{% translate "Advisories" noop %}',
    '{% translate "May" context "month name" %}',
    '{% translate "Advisories" as label %}[{{ label }}]',
    '{% translate "Advisories"|upper %}',
    "{% translate word %}",
    "{% blocktranslate count n=2 %}{{ n }} advisory{% plural %}{{ n }} advisories{% endblocktranslate %}",
    "{% get_current_language as LANG %}{{ LANG }}",
]


def _django(source: str) -> str:
    engine = Engine(libraries={"i18n": "django.templatetags.i18n"})
    return engine.from_string("{% load i18n %}" + source).render(Context({"word": "Advisories"}))


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("language", ["en", "zh-hans", None])
def test_every_form_renders_as_djangos_library(source: str, language: str | None) -> None:
    template = Template("{% load i18n %}" + source)
    with translation.override(language):
        expected = _django(source)
        for _twice in range(2):  # the second rendering from what the first kept
            assert template.render(Context({"word": "Advisories"})) == expected


def test_project_templates_load_the_kept_library() -> None:
    node = Template('{% load i18n %}{% translate "Advisories" %}').nodelist[-1]
    assert isinstance(node, i18n_tags.ConstantTranslateNode)
    assert Template("{% load i18n %}{% translate word %}").nodelist[-1].__class__ is django_i18n.TranslateNode


def test_one_template_follows_the_active_language() -> None:
    template = Template('{% load i18n %}{% translate "Advisories" %}')
    with translation.override("en"):
        assert template.render(Context()) == "Advisories"
    with translation.override("zh-hans"):
        assert template.render(Context()) == "安全公告"
    with translation.override("en"):
        assert template.render(Context()) == "Advisories"


def test_the_kept_texts_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(i18n_tags.KEPT, "max_entries", 3)
    i18n_tags.clear()
    for word in ("Advisories", "Search", "Severity", "Product", "Year"):
        Template(f'{{% load i18n %}}{{% translate "{word}" %}}').render(Context())
        assert len(i18n_tags.KEPT) <= 3

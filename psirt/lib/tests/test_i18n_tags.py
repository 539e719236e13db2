"""The project's `i18n` template library: Django's tags, with constant `{% translate %}` texts kept per catalog.
Every form renders what Django's own library renders, in each language, and a kept text follows the catalog."""

from __future__ import annotations

import pytest
from django.template import Context, Engine, Template
from django.template.base import Token
from django.templatetags import i18n as django_i18n
from django.utils import translation
from django.utils.html import escape
from django.utils.translation import trans_real

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


# `{% blocktranslate %}` in every form: translated and missing texts, plurals (0, 1, 2, a count through a filter),
# `with`, `asvar`, `trimmed`, a literal and a variable context, `%` in the text, Chinese in the id and in the values,
# the legacy spellings; each rendered with hostile values.
BLOCK_SOURCES = [
    "{% blocktranslate with name=who trimmed %}Dear {{ name }},{% endblocktranslate %}",
    "{% blocktranslate with name=who %}Dear {{ name }},{% endblocktranslate %}",
    "{% blocktranslate %}Dear {{ who }},{% endblocktranslate %}",
    "{% blocktranslate count n=zero %}{{ n }} advisory{% plural %}{{ n }} advisories{% endblocktranslate %}",
    "{% blocktranslate count n=one %}{{ n }} advisory{% plural %}{{ n }} advisories{% endblocktranslate %}",
    "{% blocktranslate count n=items|length %}{{ n }} advisory{% plural %}{{ n }} advisories{% endblocktranslate %}",
    "{% blocktranslate count days=two trimmed %}\n  The link works once and expires in {{ days }} day.\n"
    "{% plural %}\n  The link works once and expires in {{ days }} days.\n{% endblocktranslate %}",
    "{% blocktranslate with product=who version=one count n=two %}{{ product }} {{ version }} is affected by {{ n }}"
    " published advisory{% plural %}{{ product }} {{ version }} is affected by {{ n }} published advisories"
    "{% endblocktranslate %}",
    "{% blocktranslate with name=who asvar greeting %}Dear {{ name }},{% endblocktranslate %}[{{ greeting }}]",
    "{% blocktranslate count n=two asvar line %}{{ n }} advisory{% plural %}{{ n }} advisories{% endblocktranslate %}"
    "[{{ line }}]",
    '{% blocktranslate context "calendar" %}day off{% endblocktranslate %}',
    "{% blocktranslate context section %}Triage{% endblocktranslate %}",
    '{% blocktranslate context "calendar" count n=two %}{{ n }} day off{% plural %}{{ n }} days off'
    "{% endblocktranslate %}",
    "{% blocktranslate with pct=two %}100% of {{ pct }} <b>%(x)s</b> %%{% endblocktranslate %}",
    "{% blocktranslate with name=who trimmed %}\n  尊敬的 {{ name }}，\n  未翻译的文字。\n{% endblocktranslate %}",
    "{% blocktranslate with name=who %}A text no catalog has, for {{ name }}.{% endblocktranslate %}",
    "{% blocktranslate %}{{ missing }} and {{ who }}{% endblocktranslate %}",
    "{% blocktrans with who as name %}Dear {{ name }},{% endblocktrans %}",
    "{% blocktrans count items|length as n %}{{ n }} advisory{% plural %}{{ n }} advisories{% endblocktrans %}",
    "{% autoescape off %}{% blocktranslate with name=who %}Dear {{ name }},{% endblocktranslate %}{% endautoescape %}",
]
BLOCK_CONTEXT = {
    "who": '<script>alert("x")</script> 张三 %(name)s & {{ x }}',
    "zero": 0,
    "one": 1,
    "two": 2,
    "items": [1, 2, 3],
    "section": "case page section",
}


@pytest.mark.parametrize("source", BLOCK_SOURCES)
@pytest.mark.parametrize("language", ["en", "zh-hans", None])
def test_every_blocktranslate_renders_as_djangos_library(source: str, language: str | None) -> None:
    template = Template("{% load i18n %}" + source)
    nodes = template.nodelist.get_nodes_by_type(django_i18n.BlockTranslateNode)
    assert nodes and all(isinstance(node, i18n_tags.KeptIdsBlockTranslateNode) for node in nodes)
    with translation.override(language):
        expected = Engine(libraries={"i18n": "django.templatetags.i18n"}).from_string("{% load i18n %}" + source)
        for _twice in range(2):
            assert template.render(Context(BLOCK_CONTEXT)) == expected.render(Context(BLOCK_CONTEXT))


def test_blocktranslate_follows_the_language_and_the_count() -> None:
    template = Template(
        "{% load i18n %}{% blocktranslate count days=n trimmed %}The link works once and expires in {{ days }} day."
        "{% plural %}The link works once and expires in {{ days }} days.{% endblocktranslate %}"
    )
    with translation.override("en"):
        assert template.render(Context({"n": 1})) == "The link works once and expires in 1 day."
        assert template.render(Context({"n": 3})) == "The link works once and expires in 3 days."
    with translation.override("zh-hans"):
        assert template.render(Context({"n": 3})) == "该链接仅可使用一次，3 天后失效。"
    with translation.override("en"):
        assert template.render(Context({"n": 1})) == "The link works once and expires in 1 day."


def test_blocktranslate_builds_its_message_ids_once(monkeypatch: pytest.MonkeyPatch) -> None:
    template = Template(
        "{% load i18n %}{% blocktranslate count n=two trimmed %}\n {{ n }} advisory\n{% plural %}\n {{ n }} advisories"
        "\n{% endblocktranslate %}"
    )
    built: list[list[Token]] = []
    joined = django_i18n.BlockTranslateNode.render_token_list

    def counting(self: django_i18n.BlockTranslateNode, tokens: list[Token]) -> tuple[str, list[str]]:
        built.append(tokens)
        return joined(self, tokens)

    monkeypatch.setattr(django_i18n.BlockTranslateNode, "render_token_list", counting)
    with translation.override("zh-hans"):
        assert template.render(Context({"two": 2})) == "2 个安全公告"
        assert template.render(Context({"two": 1})) == "1 个安全公告"
    with translation.override("en"):
        assert template.render(Context({"two": 2})) == "2 advisories"
    assert built == []


def test_blocktranslate_whose_translation_does_not_format_falls_back_as_djangos(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source = "{% load i18n %}{% blocktranslate with name=who %}Dear {{ name }},{% endblocktranslate %}"
    gettext = translation.gettext

    def broken(text: str) -> str:  # a catalog whose translation names a variable the tag does not have
        if text == "Dear %(name)s," and isinstance(trans_real.catalog(), trans_real.DjangoTranslation):
            return "%(nobody)s"
        return gettext(text)

    monkeypatch.setattr(translation, "gettext", broken)
    with translation.override("zh-hans"):
        django = Engine(libraries={"i18n": "django.templatetags.i18n"}).from_string(source)
        expected = django.render(Context(BLOCK_CONTEXT))
        assert Template(source).render(Context(BLOCK_CONTEXT)) == expected == f"Dear {escape(BLOCK_CONTEXT['who'])},"

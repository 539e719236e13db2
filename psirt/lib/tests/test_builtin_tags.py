"""The project's builtins (`{% extends %}`, `{% url %}`): every form renders what Django's own tags render, and what
they keep follows the language, the URL configuration and the template."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import pytest
from django.http import HttpRequest, HttpResponse
from django.template import Context, Engine, Template, engines
from django.template.base import VariableNode
from django.template.defaulttags import URLNode
from django.test import RequestFactory, override_settings
from django.urls import NoReverseMatch, path
from django.utils import timezone, translation

from psirt.lib import builtin_tags

URL_SOURCES = [
    "{% url 'pages:home' %}",
    "{% url 'pages:home' as home %}[{{ home }}]",
    "{% url 'no-such-view' as missing %}[{{ missing }}]",
    "{% url 'advisories:detail' 'BN-SA-2026-00001' %}",
    "{% url 'advisories:detail' advisory_id='BN-SA-2026-00001' %}",
    "{% url 'advisories:detail' 'A&B<\">' %}",
    "{% url 'advisories:detail' aid %}",
    "{% url view_name %}",
    "{% url 'pages:home'|default:'x' %}",
]


def _django(source: str, context: Mapping[str, object]) -> str:
    return Engine().from_string(source).render(Context(context))


@pytest.mark.parametrize("source", URL_SOURCES)
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_every_url_form_renders_as_djangos_tag(source: str, language: str) -> None:
    context = {"aid": "BN-SA-2026-00002", "view_name": "pages:policy"}
    template = Template(source)
    with translation.override(language):
        expected = _django(source, context)
        for _twice in range(2):  # the second rendering from what the first kept
            assert template.render(Context(context)) == expected
    assert expected.count(f"/{language}/") == (0 if "missing" in source else 1)


def test_only_literal_arguments_are_kept() -> None:
    assert isinstance(Template("{% url 'pages:home' %}").nodelist[0], builtin_tags.ConstantURLNode)
    assert isinstance(Template("{% url 'advisories:detail' 'X' %}").nodelist[0], builtin_tags.ConstantURLNode)
    for source in ("{% url 'advisories:detail' aid %}", "{% url view_name %}", "{% url 'a'|default:'b' %}"):
        assert Template(source).nodelist[0].__class__ is URLNode


def test_a_view_that_does_not_reverse_raises_every_time_without_as() -> None:
    template = Template("{% url 'no-such-view' %}")
    for _twice in range(2):
        with pytest.raises(NoReverseMatch):
            template.render(Context())


def test_the_current_application_is_part_of_the_key() -> None:
    request = RequestFactory().get("/")
    request.current_app = "elsewhere"
    seen: list[object] = []
    original = builtin_tags.reverse

    def spy(*args: object, **kwargs: object) -> str:
        seen.append(kwargs.get("current_app"))
        return original(*args, **kwargs)  # type: ignore[arg-type]

    def with_request() -> Context:
        context = Context()
        context.request = request  # type: ignore[attr-defined] # as a RequestContext has it
        return context

    builtin_tags.clear()
    template = Template("{% url 'pages:home' %}")
    with pytest.MonkeyPatch.context() as patch, translation.override("en"):
        patch.setattr(builtin_tags, "reverse", spy)
        template.render(with_request())
        template.render(with_request())
        template.render(Context())
    assert seen == ["elsewhere", None]


def only(request: HttpRequest) -> HttpResponse:
    return HttpResponse()


urlpatterns = [path("only/", only, name="only")]


def test_another_url_configuration_reverses_afresh() -> None:
    template = Template("{% url 'only' as u %}[{{ u }}]")
    assert template.render(Context()) == "[]"
    with override_settings(ROOT_URLCONF=__name__):
        assert template.render(Context()) == "[/only/]"
    assert template.render(Context()) == "[]"


BASE = "<{% block a %}A{% endblock %}|{% block b %}B{% block c %}C{% endblock %}{% endblock %}>"
MIDDLE = "{% extends base %}{% block b %}[{{ block.super }}]{% block c %}c{% endblock %}{% endblock %}"
CHILD = "{% extends middle %}{% block a %}a{% endblock %}{% block c %}{{ block.super }}!{% endblock %}"


def test_extends_renders_as_djangos_tag() -> None:
    ours = {name: Template(source) for name, source in (("base", BASE), ("middle", MIDDLE), ("child", CHILD))}
    theirs = {name: Engine().from_string(source) for name, source in (("base", BASE), ("middle", MIDDLE))}
    expected = Engine().from_string(CHILD).render(Context({"base": theirs["base"], "middle": theirs["middle"]}))
    assert expected == "<a|[Bc!]c!>"
    for _twice in range(2):
        assert ours["child"].render(Context({"base": ours["base"], "middle": ours["middle"]})) == expected
    expected_middle = Engine().from_string(MIDDLE).render(Context({"base": theirs["base"]}))
    assert ours["middle"].render(Context({"base": ours["base"]})) == expected_middle == "<A|[Bc]c>"
    assert ours["base"].render(Context()) == "<A|BC>"


def test_a_page_of_the_site_extends_with_the_kept_blocks() -> None:
    template = engines["django"].get_template("advisories/detail.html").template  # type: ignore[attr-defined]
    assert isinstance(template.nodelist[0], builtin_tags.KeptBlocksExtendsNode)
    parent = engines["django"].get_template("base.html").template  # type: ignore[attr-defined]
    assert builtin_tags.root_blocks(parent) is builtin_tags.root_blocks(parent)
    assert {"title", "content", "footer"} <= set(builtin_tags.root_blocks(parent) or {})
    assert builtin_tags.root_blocks(template) is None  # not a root: it extends another


DATE_VALUES = [
    dt.datetime(2026, 3, 9, 23, 30, 5, 123456, tzinfo=dt.UTC),  # the next day in Shanghai
    dt.datetime(2026, 12, 31, 16, 0, tzinfo=dt.UTC),
    dt.datetime(987, 1, 2, 3, 4, 5, tzinfo=dt.UTC),  # a year of three digits is zero-padded
    dt.datetime(2026, 3, 9, 8, 0),  # naive
    dt.date(2026, 3, 9),
    None,
    "",
    "2026-03-09",
    42,
]


@pytest.mark.parametrize("value", DATE_VALUES, ids=repr)
@pytest.mark.parametrize("arg", ["c", "Y-m-d", "Y", "DATE_FORMAT", "SHORT_DATE_FORMAT", "j F Y H:i", ""])
@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize("zone", ["UTC", "Asia/Shanghai"])
def test_the_date_filter_writes_what_djangos_writes(value: object, arg: str, language: str, zone: str) -> None:
    source = f'{{{{ value|date:"{arg}" }}}}|{{{{ value|date }}}}'
    with translation.override(language), timezone.override(zone):
        try:
            expected = _django(source, {"value": value})
        except TypeError:  # a time format of a date: the same error as Django's
            with pytest.raises(TypeError):
                Template(source).render(Context({"value": value}))
            return
        assert Template(source).render(Context({"value": value})) == expected
    if isinstance(value, dt.date) and arg in ("c", "Y-m-d"):
        assert expected.split("|")[0] != ""


def test_the_date_filter_is_the_projects() -> None:
    """The builtins' `date` takes the place of Django's in every template."""
    node = Template("{{ v|date:'c' }}").nodelist[0]
    assert isinstance(node, VariableNode) and node.filter_expression.filters[0][0] is builtin_tags.date
    assert builtin_tags.iso_day(dt.date(987, 1, 2)) == "0987-01-02"

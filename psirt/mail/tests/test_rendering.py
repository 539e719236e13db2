"""A mail template rendered once per shape of its context, with each mail's texts put in its slots
(psirt.mail.rendering), is Django's rendering byte for byte: for the real mail templates with hostile texts in
both languages, and for every use of a value a probe cannot stand in for, which is rendered as Django renders it."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.template import engines
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.safestring import mark_safe
from hypothesis import example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from psirt.mail import rendering

HOSTILE = [
    "<script>alert('x')</script>",
    'Ada "the" O\'Brien & <Co>',
    "张三 <zhang@research.test>",
    "Eve\r\nBcc: victim@example.test",
    "a%(name)s b%s {{ x }} {% if %}",
    "x" * 5000,
    "&amp; &lt; already escaped",
    " leading and trailing ",
    "\u202eright-to-left",
]


def acknowledgment(name: str = "Ada", ack_due: str = "2026-12-09 17:00 UTC", **overrides: Any) -> dict[str, Any]:
    context: dict[str, Any] = {
        "report": {"tracking_id": "VR-2026-00042", "reporter_name": name, "stage": "received", "ack_due": ack_due},
        "org_names": {"en": "Vendor & Co", "zh-hans": "厂商"},
        "ack_business_days": 3,
        "portal_urls": {"en": "https://psirt.test/en/r/a'b\"c/", "zh-hans": "https://psirt.test/zh-hans/r/a<b>/"},
        "lost_link_urls": {"en": "https://psirt.test/en/lost/?a=1&b=2", "zh-hans": "https://psirt.test/zh-hans/lost/"},
        "mail_languages": ["en"],
    }
    context.update(overrides)
    return context


def both(name: str, context: dict[str, Any], language: str) -> tuple[str, str]:
    """(Django's rendering, the kept one) of template `name` in `language`, the kept one asked twice (the second
    from the skeleton the first kept)."""
    values = {**context, "mail_language": language}
    with translation.override(language):
        expected = render_to_string(name, copy.deepcopy(values))
        first = rendering.render(name, values)
        second = rendering.render(name, values)
    assert first == second
    return expected, second


def mail_templates() -> list[str]:
    root = Path(__file__).resolve().parents[2]
    return sorted(
        str(path.relative_to(path.parents[2])).removesuffix(".subject.txt")
        for path in root.glob("*/templates/*/mail/*.subject.txt")
    )


@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize("suffix", [".subject.txt", ".txt", ".html"])
@pytest.mark.parametrize("name", HOSTILE)
def test_an_acknowledgment_with_a_hostile_name_is_djangos_rendering(name: str, suffix: str, language: str) -> None:
    expected, kept = both(f"intake/mail/acknowledgment{suffix}", acknowledgment(name), language)
    assert kept == expected


def test_the_acknowledgment_is_kept_as_a_skeleton_and_escapes_where_django_escapes() -> None:
    rendering.clear()
    expected, kept = both("intake/mail/acknowledgment.html", acknowledgment("<b>Ada</b>"), "en")
    assert kept == expected and "&lt;b&gt;Ada&lt;/b&gt;" in kept
    assert len(rendering.KEPT) == 1  # one shape, kept
    expected, kept = both("intake/mail/acknowledgment.txt", acknowledgment("<b>Ada</b>"), "en")
    assert kept == expected and "Dear <b>Ada</b>," in kept


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_what_the_template_looks_at_decides_the_skeleton(language: str) -> None:
    for context in (
        acknowledgment(ack_due=""),  # the other branch of an {% if %}
        acknowledgment(ack_business_days=1),  # the singular
        acknowledgment(portal_urls={"en": "", "zh-hans": "https://psirt.test/zh-hans/r/x/"}),  # the picked one empty
        acknowledgment(portal_urls={"zh-hans": "https://psirt.test/zh-hans/r/x/"}),  # missing: the first
        acknowledgment(portal_urls={}),
        acknowledgment(org_names={"en": "Vendor", "zh-hans": ""}),
        {k: v for k, v in acknowledgment().items() if k != "org_names"},  # a name missing altogether
        acknowledgment(report={"tracking_id": "VR-1", "reporter_name": "Ada"}),  # a key missing
    ):
        for suffix in (".subject.txt", ".txt", ".html"):
            expected, kept = both(f"intake/mail/acknowledgment{suffix}", context, language)
            assert kept == expected


@pytest.mark.parametrize("name", mail_templates())
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_every_mail_template_renders_as_django_renders_it(name: str, language: str) -> None:
    context = acknowledgment('<i>"Ada"</i> & 张三')
    context.update(
        {
            "case_key": "<CASE-1>",
            "stage": "notification",
            "what": "date",
            "threshold": "due",
            "track": "vulnerability",
            "kind": "ack",
            "event": "advisory.revised",
            "exploitation": "active",
            "severity": "High & <critical>",
            "cves": ["CVE-2026-0001", "<CVE>"],
            "days": 2,
            "hours": 24,
            "revision": 2,
            "passed": True,
            "advisory_id": "PSA-2026-0001",
            "title": "<b>x</b> & y",
            "summary": "a & b\nline <2>",
            "message_body": "Hello\n<world>",
            "url": "https://psirt.test/?a=1&b=<2>",
            "link": "https://psirt.test/l/'x'",
            "desk_url": 'https://psirt.test/desk/"x"',
            "base_url": "https://psirt.test",
            "csaf_url": "https://psirt.test/csaf.json",
            "manage_url": "https://psirt.test/manage/",
            "unsubscribe_url": "https://psirt.test/unsubscribe/",
            "confirm_url": "https://psirt.test/confirm/",
            "name": "O'Brien",
            "organization": "ACME <labs>",
            "org_name": "Vendor & Co",
            "inviter": "Lead <lead@vendor.test>",
        }
    )
    for suffix in (".subject.txt", ".txt", ".html"):
        expected, kept = both(f"{name}{suffix}", context, language)
        assert kept == expected


def from_string(source: str) -> Any:
    return engines["django"].from_string(source)


# Templates that look at a value in a way a probe cannot stand in for, and contexts that are not plain JSON values:
# each must render as Django renders it.
LOOKS_AT = {
    "a filter": ("{{ name|upper }}|{{ name|length }}", {"name": "ada"}),
    "a comparison": ('{% if name == "ada" %}yes{% else %}no{% endif %}', {"name": "ada"}),
    "a membership": ('{% if "d" in name %}yes{% endif %}', {"name": "ada"}),
    "a text looked into": ("{{ name.0 }}{% if name.0 %}!{% endif %}", {"name": "ada"}),
    "a method of a mapping": ("{{ names.items }}{{ names.keys }}", {"names": {"en": "ada"}}),
    "a mapping printed": ("{{ names }}", {"names": {"en": "<ada>"}}),
    "a list printed": ("{{ names }}", {"names": ["<ada>"]}),
    "a list item": ("{{ names.0 }}", {"names": ["<ada>", "b"]}),
    "a loop": ("{% for n in names %}{{ n }}{% endfor %}", {"names": ["a", "b"]}),
    "a translated variable": ("{% load i18n %}{% translate name %}", {"name": "Thank you"}),
    "a blocktranslate with asvar": (
        "{% load i18n %}{% blocktranslate with n=name asvar said %}Dear {{ n }}{% endblocktranslate %}{{ said }}",
        {"name": "<ada>"},
    ),
    "a count": (
        "{% load i18n %}{% blocktranslate count n=days %}{{ n }} day{% plural %}{{ n }} days{% endblocktranslate %}",
        {"days": 1},
    ),
    "a number and a boolean": ("{{ a }} {{ b }} {% if a %}a{% endif %}", {"a": 1, "b": True}),
    "a boolean that is one": ("{{ a }} {{ b }}", {"a": True, "b": 1.0}),
    "a method of a text tested": ("{% if name.isdigit %}digits{% endif %}", {"name": "123"}),
    "a safe string": ("{{ name }}", {"name": mark_safe("<b>ada</b>")}),
    "a date": ("{{ when }}", {"when": dt.date(2026, 12, 6)}),
    "a marker's characters": ("{{ name }}", {"name": "\ue000&0\ue001"}),
    "autoescape off and on": ("{% autoescape off %}{{ n }}{% endautoescape %}{{ n }}", {"n": "<a&b>"}),
    "the same text twice": ("{{ a }}{{ b }}{{ a }}", {"a": "<x>", "b": "<x>"}),
    "not and or": ("{% if not a and b or c %}1{% endif %}{% if a or b %}2{% endif %}", {"a": "", "b": "x", "c": ""}),
}


@pytest.mark.parametrize(("source", "context"), LOOKS_AT.values(), ids=LOOKS_AT.keys())
def test_a_value_a_probe_cannot_stand_in_for_is_rendered_as_django_renders_it(
    source: str, context: dict[str, Any]
) -> None:
    template = from_string(source)
    expected = template.render(copy.deepcopy(context))
    assert rendering.render_template(template, context) == expected
    assert rendering.render_template(template, context) == expected


def test_values_that_differ_where_the_template_looks_are_different_skeletons() -> None:
    template = from_string("{{ a }}{% if n == 1 %}one{% endif %}{% if t %}t{% endif %}")
    for context in ({"a": "x", "n": 1, "t": "y"}, {"a": "x", "n": True, "t": "y"}, {"a": "x", "n": 1, "t": ""}):
        assert rendering.render_template(template, context) == template.render(context)
    assert rendering.render_template(template, {"a": "x", "n": 1.0, "t": "y"}) == "xonet"


@hypothesis_settings(max_examples=150, derandomize=True, database=None, deadline=None)
@given(
    name=st.text(max_size=40),
    org=st.text(max_size=20),
    url=st.text(max_size=30),
    due=st.sampled_from(["", "2026-12-09 17:00 UTC"]),
    language=st.sampled_from(["en", "zh-hans"]),
)
@example(name="<&>\"'", org="&amp;", url="\n.\r\n", due="", language="en")
def test_any_texts_render_as_django_renders_them(name: str, org: str, url: str, due: str, language: str) -> None:
    context = acknowledgment(name, due, org_names={"en": org, "zh-hans": org}, portal_urls={language: url})
    for suffix in (".subject.txt", ".txt", ".html"):
        expected, kept = both(f"intake/mail/acknowledgment{suffix}", context, language)
        assert kept == expected


def test_a_number_a_boolean_and_a_float_are_different_shapes() -> None:
    template = from_string("{{ a }}")
    for value, expected in ((1, "1"), (True, "True"), (1.0, "1.0"), (None, "None")):
        assert rendering.render_template(template, {"a": value}) == expected


def test_a_marker_the_rendering_changed_is_not_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    """A filter that claims to pick a value but changes it: the probe's markers come out changed, so the template is
    rendered as Django renders it."""
    from django.template.defaultfilters import register

    def shout(values: dict[str, str], language: str) -> str:
        return str(values.get(language, "")).upper()

    shout.picks_a_value = True  # type: ignore[attr-defined]
    monkeypatch.setitem(register.filters, "shout_picked", shout)
    template = from_string("{{ names|shout_picked:lang }}")
    context = {"names": {"en": "ada"}, "lang": "en"}
    assert rendering.render_template(template, context) == "ADA"
    assert rendering.render_template(template, {"names": {"en": "eve"}, "lang": "en"}) == "EVE"


@pytest.mark.parametrize(
    "source",
    [
        "{{ body|linebreaksbr }}",
        "{% if body|length > 3 %}long{% endif %}",
        "{% load i18n %}{% blocktranslate with b=body|upper %}{{ b }}{% endblocktranslate %}",
        "{% load i18n %}{% translate body %}",
    ],
)
def test_a_text_looked_at_through_a_filter_is_never_kept(source: str) -> None:
    """Kept in a shape, the text would stay in the worker's memory past its mail: such a template is rendered as
    Django renders it, and nothing is kept."""
    rendering.clear()
    template = from_string(source)
    context = {"body": "private <message>"}
    assert rendering.render_template(template, context) == template.render(context)
    assert rendering.uses(template.template) is None and len(rendering.KEPT) == 0

"""Cache-Control of the conditional answers: only directives that apply, each well-formed."""

from __future__ import annotations

import pytest
from django.test import RequestFactory
from django.urls import NoReverseMatch, get_script_prefix, reverse, set_script_prefix
from django.utils import translation
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from psirt.lib import http
from psirt.lib.http import conditional_response, route_path


def _cache_control(must_revalidate: bool) -> list[str]:
    request = RequestFactory().get("/feed")
    response = conditional_response(
        request, body="x", content_type="text/plain", max_age=60, must_revalidate=must_revalidate
    )
    return sorted(part.strip() for part in response["Cache-Control"].split(","))


def test_without_must_revalidate_the_directive_is_absent() -> None:
    assert _cache_control(False) == ["max-age=60", "public"]


def test_with_must_revalidate_the_directive_has_no_value() -> None:
    assert _cache_control(True) == ["max-age=60", "must-revalidate", "public"]


def test_no_directive_carries_a_python_boolean() -> None:
    for flag in (False, True):
        assert not any("False" in part or "True" in part for part in _cache_control(flag))


# Tokens on every edge of "put in as it is": URL-safe base64, signed tokens' dots and colons, characters reverse()
# quotes (space, %, non-ASCII, quotes, HTML) and refuses ("/").
TOKENS = st.text(
    alphabet=st.sampled_from([*"aZ09_-.:~%/ ?#&'\"<>=+@!", "张", "é"]), min_size=1, max_size=40
) | st.sampled_from(["m..eJyrVkrOz0nMzVeyUkpKzEnMBhKGRkpWSqb6hmYGSqUlqRUlAJx3CbI:1vX:abc", "x" * 43])


@hypothesis_settings(max_examples=400, derandomize=True, database=None, deadline=None)
@given(token=TOKENS, language=st.sampled_from(["en", "zh-hans"]))
def test_a_route_with_a_token_is_the_path_reverse_gives(token: str, language: str) -> None:
    """The portal link and the subscriber's links in mail: the path reverse() gives for the token, or its refusal."""
    for name, lang in (("portal:home", language), ("notify:manage", language), ("notify_unsubscribe", None)):
        try:
            with translation.override(lang):
                expected: str | type[Exception] = reverse(name, args=[token])
        except NoReverseMatch:
            expected = NoReverseMatch
        try:
            got: str | type[Exception] = route_path(name, lang, token)
        except NoReverseMatch:
            got = NoReverseMatch
        assert got == expected


def test_a_route_is_resolved_once_per_language_and_again_under_another_script_prefix() -> None:
    for language in ("en", "zh-hans"):
        with translation.override(language):
            assert route_path("intake:lost_link", language) == reverse("intake:lost_link")
    previous = get_script_prefix()
    set_script_prefix("/psirt/")
    try:
        with translation.override("en"):
            assert route_path("portal:home", "en", "abc") == reverse("portal:home", args=["abc"])
        assert route_path("portal:home", "en", "abc").startswith("/psirt/")
    finally:
        set_script_prefix(previous)
    assert not route_path("portal:home", "en", "abc").startswith("/psirt/")


def test_a_route_is_reversed_once_for_every_token(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []

    def counting(name: str, args: list[str]) -> str:
        calls.append(name)
        return reverse(name, args=args)

    monkeypatch.setattr(http, "reverse", counting)
    http.resolved_route.cache_clear()
    paths = [route_path("portal:home", "zh-hans", f"token{n}") for n in range(3)]
    with translation.override("zh-hans"):
        assert paths == [reverse("portal:home", args=[f"token{n}"]) for n in range(3)]
    assert calls == ["portal:home"]
    assert route_path("portal:home", "zh-hans", "with space") == "/zh-hans/" + paths[0].split("/", 2)[2].replace(
        "token0", "with%20space"
    )  # a token that needs quoting is reversed in full
    assert calls == ["portal:home", "portal:home"]

"""Cache-Control of the conditional answers: only directives that apply, each well-formed."""

from __future__ import annotations

from django.test import RequestFactory

from psirt.lib.http import conditional_response


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

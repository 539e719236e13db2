"""Links to the same page (or the home page) in each language, for the language switch of every page."""

from __future__ import annotations

import functools
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.http import HttpRequest
from django.urls import get_urlconf, translate_url
from django.utils.translation import get_language

LANGUAGE_LABELS = {"en": ("English", "en"), "zh-hans": ("中文", "zh-Hans")}


def _link(code: str, url: str, current: str) -> dict[str, Any]:
    label, lang = LANGUAGE_LABELS.get(code, (code, code))
    return {"code": code, "label": label, "lang": lang, "url": url, "current": code == current}


def home_language_links() -> list[dict[str, Any]]:
    """Links to each language's home (error pages: they must not echo the URL they were sent)."""
    current = get_language() or settings.LANGUAGE_CODE
    return [_link(code, f"/{code}/", current) for code, _name in settings.LANGUAGES]


def language_links(request: HttpRequest) -> list[dict[str, Any]]:
    """The current page in each language. The query string is kept (filters survive the switch) unless it
    is absurdly long; a page that does not resolve (a 404) links to the other language's home."""
    current = get_language() or settings.LANGUAGE_CODE
    full = request.get_full_path()
    source = full if len(full) < 2000 else request.path
    path, mark, query = source.partition("?")
    links = []
    for code, _name in settings.LANGUAGES:
        translated = _translated_path(path, code, current, get_urlconf())
        url = f"/{code}/" if translated == path and code != current else translated + mark + query
        links.append(_link(code, url, current))
    return links


@functools.lru_cache(maxsize=4096)
def _translated_path(path: str, code: str, current: str, urlconf: str | None) -> str:
    """The path in language `code` (unchanged when it does not resolve). A function of the path, both languages
    and the URL configuration alone, kept per process: resolving and reversing every page's URL twice was a
    twentieth of a public page's rendering."""
    return translate_url(path, code)


setting_changed.connect(lambda **kwargs: _translated_path.cache_clear(), weak=False, dispatch_uid="psirt-lang-links")

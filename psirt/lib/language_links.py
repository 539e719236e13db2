"""Links to the same page (or the home page) in each language, for the language switch of every page."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.urls import translate_url
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
    links = []
    for code, _name in settings.LANGUAGES:
        url = translate_url(source, code)
        if url == source and code != current:
            url = f"/{code}/"
        links.append(_link(code, url, current))
    return links

"""Choosing between the English and the Chinese text of a bilingual field."""

from __future__ import annotations

from collections.abc import Callable

from django.utils.translation import get_language


def pick_language(en: str, zh: str) -> str:
    """The Chinese text for Chinese visitors when there is one, English otherwise."""
    return language_picker()(en, zh)


def language_picker() -> Callable[[str, str], str]:
    """`pick_language` for the active language, read once: for the many texts of one page (a thread-local read
    per text was a visible share of a list of product lines)."""
    if (get_language() or "en").lower().startswith("zh"):
        return lambda en, zh: zh or en
    return lambda en, zh: en

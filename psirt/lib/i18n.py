"""Choosing between the English and the Chinese text of a bilingual field."""

from __future__ import annotations

from django.utils.translation import get_language


def pick_language(en: str, zh: str) -> str:
    """The Chinese text for Chinese visitors when there is one, English otherwise."""
    lang = (get_language() or "en").lower()
    return zh if lang.startswith("zh") and zh else en

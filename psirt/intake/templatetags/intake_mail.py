"""Filters for intake mail templates, whose context is plain values (rendered later by the outbox worker)."""

from __future__ import annotations

from django import template

from psirt.intake.models import Stage

register = template.Library()


@register.filter
def stage_label(code: str) -> str:
    """The reporter-facing name of a stage, in the active language."""
    try:
        return str(Stage(code).label)
    except ValueError:
        return code


@register.filter
def in_language(values: object, language: str) -> str:
    """The value for `language` from a {language: value} mapping of the mail's context (a link to the portal
    in that language); the first value when the language is missing, "" when there is none."""
    if not isinstance(values, dict) or not values:
        return ""
    return str(values.get(language) or next(iter(values.values())))


# Its result is `str()` of one value of its mapping, chosen by the language and by which values are empty: the
# worker renders a mail once per shape of its context and puts each mail's texts in (psirt.mail.rendering).
in_language.picks_a_value = True  # type: ignore[attr-defined]

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

"""`{% load psirt_markdown %}{{ text|markdown }}`: safe Markdown in templates (see psirt.lib.markdown)."""

from __future__ import annotations

from django import template
from django.utils.safestring import SafeString

from psirt.lib.markdown import render_markdown

register = template.Library()


@register.filter(name="markdown")
def markdown_filter(value: object) -> SafeString:
    """Render Markdown to sanitised HTML; None and empty values render as nothing."""
    return render_markdown(None if value is None else str(value))

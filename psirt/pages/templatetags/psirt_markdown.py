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


@register.filter(name="http_url")
def http_url_filter(value: object) -> str:
    """The URL when it is an absolute http(s) address, else "" — for links to stored URLs (download links),
    so a `javascript:` value slipped in by a raw database edit never becomes a clickable link."""
    text = str(value or "").strip()
    return text if text.lower().startswith(("https://", "http://")) and not any(c.isspace() for c in text) else ""

"""Small helpers of the metrics page's template: a table by name, a chart by name."""

from __future__ import annotations

from typing import Any

from django import template
from django.template.loader import render_to_string
from django.utils.safestring import SafeString

register = template.Library()


@register.filter
def get(mapping: dict[str, Any], key: str) -> Any:
    return mapping.get(key, "")


@register.filter
def attr(obj: Any, name: str) -> Any:
    return getattr(obj, name, "")


@register.filter
def split(text: str) -> list[str]:
    return text.split()


@register.simple_tag(takes_context=True)
def metrics_table(context: template.Context, name: str) -> SafeString:
    """One table of the page, with a link behind each number and its CSV file."""
    table = context["tables"].get(name)
    if table is None:
        return SafeString("")
    return SafeString(
        render_to_string(
            "metrics/desk/_table.html",
            {"table": table, "rows": context["links"][name], "query": context["query"]},
            request=context.get("request"),
        )
    )

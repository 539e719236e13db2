"""`{% load case_dashboard %}{% case_dashboard %}`: the case desk's panel on any desk page (the desk home)."""

from __future__ import annotations

from typing import Any

from django import template

from psirt.cases.views.dashboard import dashboard_context

register = template.Library()


@register.inclusion_tag("cases/_dashboard.html", takes_context=True)
def case_dashboard(context: template.Context) -> dict[str, Any]:
    request = context.get("request")
    if request is None:
        return {"case_dashboard": None}
    return {**dashboard_context(request), "request": request, "user": getattr(request, "user", None)}

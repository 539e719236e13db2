"""`{% load regulatory_dashboard %}{% regulatory_dashboard %}`: the regulatory count on the desk home (obligations
to decide and clocks overdue), for the people who may see regulatory records; nothing for anyone else."""

from __future__ import annotations

from typing import Any

from django import template

from psirt.accounts.access import active_account
from psirt.regulatory.queries import counts
from psirt.regulatory.services import ensure_exploited_obligations

register = template.Library()


@register.inclusion_tag("regulatory/_dashboard.html", takes_context=True)
def regulatory_dashboard(context: template.Context) -> dict[str, Any]:
    request = context.get("request")
    user = active_account(getattr(request, "user", None)) if request is not None else None
    if user is None or user.is_engineer:
        return {"regulatory": None}
    # A case that became exploited since the last scheduler tick is counted at once.
    ensure_exploited_obligations()
    return {"regulatory": counts(user)}

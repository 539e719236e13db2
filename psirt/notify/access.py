"""Who may change notification settings: leads only."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from psirt.notify.exceptions import NotifyError


def require_lead(actor: Any) -> None:
    if not getattr(actor, "is_lead", False):
        raise NotifyError(_("Only a lead can do this."))

"""Changing the publication policy: leads only; every change writes the next version (old versions are never
edited, so an advisory keeps the policy it was published under), audited in the same transaction."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _

from psirt.accounts.models import User
from psirt.advisories.exceptions import InvalidInput, NotAllowed
from psirt.advisories.models import PublicationPolicy, RequiredRemedy
from psirt.advisories.services.policy import current_policy
from psirt.audit.services import record
from psirt.lib.access import is_lead
from psirt.lib.severity import MinimumSeverity

MAX_TRIGGERS = 10
MAX_TRIGGER = 200

# The settings a lead may change, each with its default (the original policy, version 1).
POLICY_SETTINGS: dict[str, Any] = {
    "minimum_severity": MinimumSeverity.ANY.value,
    "required_remedy": RequiredRemedy.EITHER.value,
    "require_disclosure_date": True,
    "expedite_when_exploited": True,
    "expedite_when_public_concern": True,
    "expedite_other_triggers": "",
    "expedite_requires_fix": False,
    "four_eyes": True,
}
BOOLEAN_SETTINGS = frozenset(name for name, default in POLICY_SETTINGS.items() if isinstance(default, bool))


def policy_settings(policy: PublicationPolicy) -> dict[str, Any]:
    """The settings of one version, by name (what `set_publication_policy` takes)."""
    return {name: getattr(policy, name) for name in POLICY_SETTINGS}


def _clean(name: str, value: Any) -> Any:
    if name == "minimum_severity":
        if value not in MinimumSeverity.values:
            raise InvalidInput(
                _("The minimum severity must be one of: %(choices)s.") % {"choices": ", ".join(MinimumSeverity.values)}
            )
        return value
    if name == "required_remedy":
        if value not in RequiredRemedy.values:
            raise InvalidInput(
                _("What must exist must be one of: %(choices)s.") % {"choices": ", ".join(RequiredRemedy.values)}
            )
        return value
    if name in BOOLEAN_SETTINGS:
        if not isinstance(value, bool):
            raise InvalidInput(_("The setting %(name)s is yes or no (true or false).") % {"name": name})
        return value
    if isinstance(value, (list, tuple)):
        value = "\n".join(str(v) for v in value)
    if not isinstance(value, str):
        raise InvalidInput(_("The other reasons to expedite are text, one reason per line."))
    lines = [line.strip() for line in value.splitlines() if line.strip()]
    if len(lines) > MAX_TRIGGERS:
        raise InvalidInput(_("At most %(count)d other reasons to expedite.") % {"count": MAX_TRIGGERS})
    if any(len(line) > MAX_TRIGGER for line in lines):
        raise InvalidInput(_("Each reason to expedite is at most %(count)d characters.") % {"count": MAX_TRIGGER})
    return "\n".join(lines)


def set_publication_policy(*, actor: User, request: HttpRequest | None = None, **settings: Any) -> PublicationPolicy:
    """Write the next version of the publication policy: the current settings with `settings` changed (names
    as in `POLICY_SETTINGS`). Leads only; an unknown name or a bad value raises with what is expected."""
    if not is_lead(actor):
        raise NotAllowed(_("Only a lead can change the publication policy."))
    unknown = sorted(set(settings) - set(POLICY_SETTINGS))
    if unknown:
        raise InvalidInput(
            _("Unknown publication policy setting: %(names)s. Known: %(known)s.")
            % {"names": ", ".join(unknown), "known": ", ".join(POLICY_SETTINGS)}
        )
    cleaned = {name: _clean(name, value) for name, value in settings.items()}
    with transaction.atomic():
        previous = PublicationPolicy.objects.select_for_update().order_by("-version").first()
        values = policy_settings(previous) if previous is not None else dict(POLICY_SETTINGS)
        values.update(cleaned)
        version = (previous.version if previous is not None else 0) + 1
        policy = PublicationPolicy.objects.create(version=version, created_by=actor, **values)
        record(
            action="publication_policy.changed",
            actor=actor,
            request=request,
            target_type="publication_policy",
            target_id=str(version),
            data={"version": version, "changed": sorted(cleaned), **values},
        )
    return policy


__all__ = ["POLICY_SETTINGS", "current_policy", "policy_settings", "set_publication_policy"]

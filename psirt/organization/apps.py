from typing import Any

from django.apps import AppConfig
from django.db import connections
from django.db.models.signals import post_delete, post_migrate, post_save


class OrganizationConfig(AppConfig):
    name = "psirt.organization"
    label = "organization"

    def ready(self) -> None:
        # Imported in ready(): the check registers as the import's side effect, once the apps are loaded.
        from psirt.organization import checks  # noqa: F401

        post_migrate.connect(_store_key_canary, sender=self)
        # Every change of the profile or of a calendar day replaces the profile's change token, which the
        # per-process copies of the profile and the calendar are kept under.
        from psirt.organization.models import CalendarDay, OrganizationProfile, _changed

        for model in (OrganizationProfile, CalendarDay):
            post_save.connect(_changed, sender=model, dispatch_uid=f"org-change-save-{model._meta.label_lower}")
            post_delete.connect(_changed, sender=model, dispatch_uid=f"org-change-delete-{model._meta.label_lower}")
        # Readiness asks the same key check as start-up and `check --deploy`.
        from psirt.lib.health import register_key_check
        from psirt.organization.queries import key_problem

        register_key_check(key_problem)

    def warm_up(self) -> None:
        """Build the business-day calendar, whose country's holiday tables take tens of milliseconds (the first
        in a process several times that), before the server forks its workers (`psirt.lib.serve_hooks`)."""
        from psirt.organization.queries import organization_calendar

        organization_calendar()


def _store_key_canary(sender: AppConfig, using: str = "default", **kwargs: Any) -> None:
    """After migrate, the key canary exists: a new database gets one encrypted with its first key."""
    # Imported here: models can be imported only once the app registry is ready.
    from psirt.organization.models import KeyCanary
    from psirt.organization.services import ensure_key_canary

    # Not yet there when migrating back to before the canary existed.
    if using == "default" and KeyCanary._meta.db_table in connections[using].introspection.table_names():
        ensure_key_canary()

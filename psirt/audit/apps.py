from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "psirt.audit"
    label = "audit"

    def ready(self) -> None:
        # Registering the deployment checks is the import's side effect (Django's @register), done at start-up.
        from psirt.audit import checks  # noqa: F401

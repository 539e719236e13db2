from django.apps import AppConfig


class LibConfig(AppConfig):
    """The helpers at the bottom of the stack. An app only so that its deployment checks register."""

    name = "psirt.lib"
    label = "psirt_lib"

    def ready(self) -> None:
        # Registering is the import's side effect (Django's @register).
        from psirt.lib import checks  # noqa: F401

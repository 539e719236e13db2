from django.apps import AppConfig


class LibConfig(AppConfig):
    """The helpers at the bottom of the stack. An app only so that its deployment checks register."""

    name = "psirt.lib"
    label = "psirt_lib"

    def ready(self) -> None:
        # Imported in ready(): registering the checks is the import's side effect (Django's @register), which belongs
        # to start-up once the apps are loaded, not to whoever first imports psirt.lib.
        from psirt.lib import checks  # noqa: F401

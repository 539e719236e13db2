from django.apps import AppConfig


class AdvisoriesConfig(AppConfig):
    name = "psirt.advisories"
    label = "advisories"

    def ready(self) -> None:
        # The deployment checks (signing key for the CSAF provider and security.txt) register on import.
        import psirt.checks  # noqa: F401

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "psirt.accounts"
    label = "accounts"

    def ready(self) -> None:
        from psirt.accounts import signals  # noqa: F401 - connects the audit receivers

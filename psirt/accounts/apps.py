from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "psirt.accounts"
    label = "accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        # Imported here: the receivers load models, which Django allows only once the app registry is ready.
        from psirt.accounts import signals  # noqa: F401 - connects the audit receivers

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "psirt.accounts"
    label = "accounts"

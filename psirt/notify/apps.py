from django.apps import AppConfig


class NotifyConfig(AppConfig):
    name = "psirt.notify"
    label = "notify"

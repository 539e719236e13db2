from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "psirt.ops"
    label = "ops"

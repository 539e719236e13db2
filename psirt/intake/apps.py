from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "psirt.intake"
    label = "intake"

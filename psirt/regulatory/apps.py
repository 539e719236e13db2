from django.apps import AppConfig


class RegulatoryConfig(AppConfig):
    name = "psirt.regulatory"
    label = "regulatory"

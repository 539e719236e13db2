from django.apps import AppConfig


class AdvisoriesConfig(AppConfig):
    name = "psirt.advisories"
    label = "advisories"

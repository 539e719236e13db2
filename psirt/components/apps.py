from django.apps import AppConfig


class ComponentsConfig(AppConfig):
    name = "psirt.components"
    label = "components"

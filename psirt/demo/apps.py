from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "psirt.demo"
    label = "demo"

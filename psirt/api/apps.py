from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "psirt.api"
    label = "api"

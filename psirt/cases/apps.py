from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "psirt.cases"
    label = "cases"

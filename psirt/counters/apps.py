from django.apps import AppConfig


class CountersConfig(AppConfig):
    name = "psirt.counters"
    label = "counters"

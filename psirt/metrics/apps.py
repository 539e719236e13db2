from django.apps import AppConfig


class MetricsConfig(AppConfig):
    name = "psirt.metrics"
    label = "metrics"

from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "psirt.audit"
    label = "audit"

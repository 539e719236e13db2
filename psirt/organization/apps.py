from django.apps import AppConfig


class OrganizationConfig(AppConfig):
    name = "psirt.organization"
    label = "organization"

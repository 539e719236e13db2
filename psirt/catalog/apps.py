from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "psirt.catalog"
    label = "catalog"

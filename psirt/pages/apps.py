from django.apps import AppConfig


class PagesConfig(AppConfig):
    name = "psirt.pages"
    label = "pages"

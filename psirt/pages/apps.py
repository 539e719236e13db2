from django.apps import AppConfig


class PagesConfig(AppConfig):
    name = "psirt.pages"
    label = "pages"

    def ready(self) -> None:
        from psirt.pages import generation

        generation.connect()

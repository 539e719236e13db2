from django.apps import AppConfig


class PagesConfig(AppConfig):
    name = "psirt.pages"
    label = "pages"

    def ready(self) -> None:
        # Imported here: the module imports models, which the app registry allows only once apps are ready.
        from psirt.pages import generation

        generation.connect()

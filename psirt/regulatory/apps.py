from django.apps import AppConfig


class RegulatoryConfig(AppConfig):
    name = "psirt.regulatory"
    label = "regulatory"

    def ready(self) -> None:
        # Imported here: the panel imports models, which the app registry allows only once apps are ready.
        from psirt.cases import regulatory_hook
        from psirt.regulatory.case_panel import panel

        regulatory_hook.register(panel=panel)

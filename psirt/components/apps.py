from django.apps import AppConfig


class ComponentsConfig(AppConfig):
    name = "psirt.components"
    label = "components"

    def ready(self) -> None:
        from psirt.catalog import release_panel
        from psirt.components.models import SbomDocument, VexDecision
        from psirt.components.public_release import section
        from psirt.pages import generation

        # The public release page shows the published decisions and the public SBOM (public_release).
        release_panel.register(name="components", section=section)
        # A new decision or SBOM must show on the next request of a cached public page.
        generation.track(VexDecision)
        generation.track(SbomDocument)

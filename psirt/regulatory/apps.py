from typing import Any

from django.apps import AppConfig


class RegulatoryConfig(AppConfig):
    name = "psirt.regulatory"
    label = "regulatory"

    def ready(self) -> None:
        # Imported here: the panel imports models, which the app registry allows only once apps are ready.
        from psirt.advisories.signals import advisory_published
        from psirt.cases import regulatory_hook
        from psirt.lib import stored_files
        from psirt.regulatory.case_panel import panel
        from psirt.regulatory.services import users_informed_by_advisory

        regulatory_hook.register(panel=panel)
        # The decision's evidence files live in the encrypted file store: the sweep keeps them, rotation
        # re-encrypts them.
        stored_files.register("regulatory.EvidenceFile", "storage_name")

        def informed(sender: object, *, advisory: Any, revision: int, actor: Any, **kwargs: Any) -> None:
            # The publication is how users were told (Art. 14(8)): recorded in its transaction.
            users_informed_by_advisory(advisory=advisory, actor=actor, revision=revision)

        advisory_published.connect(informed, weak=False, dispatch_uid="psirt.regulatory.users_informed")

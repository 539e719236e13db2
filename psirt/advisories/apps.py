from django.apps import AppConfig


class AdvisoriesConfig(AppConfig):
    name = "psirt.advisories"
    label = "advisories"

    def ready(self) -> None:
        # Imported here: queries import models, which the app registry allows only once apps are ready.
        from psirt.advisories import case_panel, queries, services
        from psirt.advisories.views.public import list_version
        from psirt.cases import advisories_hook
        from psirt.components.signals import vex_decided
        from psirt.intake import advisory_links
        from psirt.pages import sections

        sections.register(
            latest=lambda limit: queries.latest_advisories(limit=limit),
            acknowledgments=queries.acknowledgment_entries,
            version=list_version,
        )
        sections.register_policy_conditions(services.public_conditions)
        advisories_hook.register(linked=case_panel.case_advisories, may_write=case_panel.may_write_from)
        # The reporter's portal links to the advisory once it is published.
        advisory_links.register_advisory_provider(queries.published_advisories_for_report)
        # A VEX decision republishes its vulnerability's CSAF VEX document in the provider tree.
        vex_decided.connect(_republish_vex, dispatch_uid="advisories.republish_vex")


def _republish_vex(sender: object, *, vulnerability: object, **kwargs: object) -> None:
    from psirt.advisories.csaf.provider.sync import update_vex_after_commit  # the app registry is ready by now
    from psirt.components.models import Vulnerability

    if isinstance(vulnerability, Vulnerability):
        update_vex_after_commit(vulnerability)

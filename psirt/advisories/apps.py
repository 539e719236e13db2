from django.apps import AppConfig


class AdvisoriesConfig(AppConfig):
    name = "psirt.advisories"
    label = "advisories"

    def ready(self) -> None:
        # Imported here: queries import models, which the app registry allows only once apps are ready.
        from psirt.advisories import case_panel, queries, services
        from psirt.cases import advisories_hook
        from psirt.intake import advisory_links
        from psirt.pages import sections

        sections.register(
            latest=lambda limit: queries.latest_advisories(limit=limit),
            acknowledgments=queries.acknowledgment_entries,
        )
        sections.register_policy_conditions(services.public_conditions)
        advisories_hook.register(linked=case_panel.case_advisories, may_write=case_panel.may_write_from)
        # The reporter's portal links to the advisory once it is published.
        advisory_links.register_advisory_provider(queries.published_advisories_for_report)

from django.apps import AppConfig


class AdvisoriesConfig(AppConfig):
    name = "psirt.advisories"
    label = "advisories"

    def ready(self) -> None:
        # Imported here: queries import models, which the app registry allows only once apps are ready.
        from psirt.advisories import queries, services
        from psirt.intake import advisory_links
        from psirt.pages import sections

        sections.register(
            latest=lambda limit: queries.latest_advisories(limit=limit),
            acknowledgments=queries.acknowledgment_entries,
        )
        sections.register_policy_conditions(services.public_conditions)
        # The reporter's portal links to the advisory once it is published.
        advisory_links.register_advisory_provider(queries.published_advisories_for_report)

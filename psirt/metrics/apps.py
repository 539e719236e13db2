from django.apps import AppConfig


class MetricsConfig(AppConfig):
    name = "psirt.metrics"
    label = "metrics"

    def ready(self) -> None:
        # The case list shows the cases behind each number of the metrics page (cases may not import us).
        # Imported here: the module loads models, which Django allows only once the app registry is ready.
        from psirt.cases.list_filters import register
        from psirt.metrics.drilldown import narrow_by_metric
        from psirt.metrics.models import PublicStatistics
        from psirt.metrics.public import public_statistics
        from psirt.metrics.registry import register_case_file_section, register_metric_provider
        from psirt.metrics.regulatory import SECTION_TITLE, clock_tables, filings_section
        from psirt.pages import generation
        from psirt.pages.sections import register_response_statistics

        register(narrow_by_metric)
        # The public home and policy pages show the response statistics when a lead turned them on.
        register_response_statistics(public_statistics)
        # Turning them on or off, or changing their minimum, changes what cached public pages show.
        generation.track(PublicStatistics)
        # The regulatory clocks met or missed, and the filings of a case, as the regulatory app answers them.
        register_metric_provider("regulatory", clock_tables)
        register_case_file_section("regulatory", SECTION_TITLE, filings_section)

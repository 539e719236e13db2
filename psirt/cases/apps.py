from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "psirt.cases"
    label = "cases"

    def ready(self) -> None:
        # Reports of a case are visible to that case's people (psirt.intake.access asks us). Imported here:
        # both modules load models, which Django allows only once the app registry is ready.
        from psirt.cases.access import report_rule
        from psirt.intake.access import register_access_rule

        register_access_rule(report_rule)

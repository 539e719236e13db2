from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "psirt.cases"
    label = "cases"

    def ready(self) -> None:
        # Reports of a case are visible to that case's people (psirt.intake.access asks us). Imported here:
        # both modules load models, which Django allows only once the app registry is ready.
        from psirt.cases.access import contact_rule, notes_rule, report_rule
        from psirt.intake.access import register_access_rule, register_contact_rule, register_notes_rule

        register_access_rule(report_rule)
        # Product engineers see who reported only where a lead shared the case's reporter contacts.
        register_contact_rule(contact_rule)
        # ... and read the team's internal notes only where a lead shared them.
        register_notes_rule(notes_rule)

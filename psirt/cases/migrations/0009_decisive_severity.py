"""Recompute every case's severity by the one severity rule (`psirt.lib.cvss.decisive_rating`: v4.0 base +
threat when a v4.0 vector is known, else v3.1 temporal; never environmental), where it used to follow the
environmental score of the vector set last. A case whose fix is being made gets the remediation deadline of its
new severity (confirmed + that severity's days), as a re-score does, and its reports follow."""

import datetime as dt

from django.db import migrations

from psirt.lib.cvss import CvssError, decisive_rating

REMEDIATION_STATES = ("confirmed", "remediation")


def recompute(apps, schema_editor):
    Case = apps.get_model("cases", "Case")
    RemediationPolicy = apps.get_model("cases", "RemediationPolicy")
    Report = apps.get_model("intake", "Report")
    OrganizationProfile = apps.get_model("organization", "OrganizationProfile")
    profile = OrganizationProfile.objects.filter(id=1).first()
    default_days = int(profile.remediation_days) if profile else 90
    days_of = dict(RemediationPolicy.objects.values_list("severity", "days"))
    cases = Case.objects.exclude(cvss31_vector="", cvss40_vector="").only(
        "id", "state", "severity", "cvss31_vector", "cvss40_vector", "confirmed_at", "remediation_due_at"
    )
    for case in cases.iterator():
        try:
            rating = decisive_rating(case.cvss31_vector, case.cvss40_vector)
        except CvssError:
            continue  # a vector stored before today's validation: left as it was, re-scoring fixes it
        severity = rating.severity if rating else ""
        if severity == case.severity:
            continue
        changes = {"severity": severity}
        if case.confirmed_at is not None and case.state in REMEDIATION_STATES:
            days = int(days_of.get(severity) or default_days) if severity else default_days
            due = case.confirmed_at + dt.timedelta(days=days)
            if due != case.remediation_due_at:
                changes["remediation_due_at"] = due
                Report.objects.filter(case_link__case_id=case.id, case_link__is_duplicate=False).update(
                    remediation_due_at=due
                )
        Case.objects.filter(id=case.id).update(**changes)


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0008_reporter_contact_share"),
        ("intake", "0001_initial"),
        ("organization", "0002_contact_hours_report_language"),
    ]

    operations = [migrations.RunPython(recompute, migrations.RunPython.noop)]

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from psirt.cases.views import actions, case, case_list, dashboard, remediation, settings, triage

# Included under /<lang>/desk/cases/ with namespace "desk:cases" (psirt/urls.py).
desk_urlpatterns: list[URLPattern | URLResolver] = [
    path("", case_list.case_list, name="list"),
    path("dashboard/", dashboard.dashboard, name="dashboard"),
    path("deadlines/", settings.deadline_settings, name="deadline_settings"),
    path("triage/<uuid:public_id>/", triage.triage, name="triage"),
    path("triage/<uuid:public_id>/open/", triage.open_case, name="triage_open"),
    path("triage/<uuid:public_id>/attach/", triage.attach, name="triage_attach"),
    path("<uuid:public_id>/", case.case_detail, name="case"),
    path("<uuid:public_id>/transition/", actions.transition, name="transition"),
    path("<uuid:public_id>/people/", actions.people, name="people"),
    path("<uuid:public_id>/contacts/", actions.contacts, name="contacts"),
    path("<uuid:public_id>/cvss/<str:version>/", actions.cvss, name="cvss"),
    path("<uuid:public_id>/cvss/<str:version>/score/", actions.cvss_score, name="cvss_score"),
    path("<uuid:public_id>/cwe/", actions.cwe, name="cwe"),
    path("<uuid:public_id>/exploitation/", actions.exploitation, name="exploitation"),
    path("<uuid:public_id>/references/", actions.reference_add, name="reference_add"),
    path("<uuid:public_id>/references/remove/", actions.reference_remove, name="reference_remove"),
    path("<uuid:public_id>/disclosure/", actions.disclosure, name="disclosure"),
    path("<uuid:public_id>/messages/", actions.message, name="message"),
    path("<uuid:public_id>/notes/", actions.note, name="note"),
    path("<uuid:public_id>/affected/", remediation.range_set, name="range_set"),
    path("<uuid:public_id>/affected/remove/", remediation.range_remove, name="range_remove"),
    path("<uuid:public_id>/mitigations/", remediation.mitigation_add, name="mitigation_add"),
    path("<uuid:public_id>/mitigations/remove/", remediation.mitigation_remove, name="mitigation_remove"),
    path("<uuid:public_id>/work/", remediation.work_add, name="work_add"),
    path("<uuid:public_id>/work/<uuid:item_id>/", remediation.work_change, name="work_change"),
]

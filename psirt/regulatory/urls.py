from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from psirt.regulatory.views import desk

# Included under /<lang>/desk/regulatory/ with namespace "desk:regulatory" (psirt/urls.py).
desk_urlpatterns: list[URLPattern | URLResolver] = [
    path("", desk.obligation_list, name="list"),
    path("incident/", desk.open_incident, name="open_incident"),
    path("miit/<uuid:case_id>/", desk.open_miit, name="open_miit"),
    path("<uuid:public_id>/", desk.detail, name="detail"),
    path("<uuid:public_id>/decide/", desk.decide, name="decide"),
    path("<uuid:public_id>/measure/", desk.measure, name="measure"),
    path("<uuid:public_id>/stage/<str:stage>/", desk.stage, name="stage"),
    path("<uuid:public_id>/stage/<str:stage>/download.<str:fmt>", desk.download, name="download"),
    path("<uuid:public_id>/record/", desk.entry, name="entry"),
    path("<uuid:public_id>/notice/", desk.draft_notice, name="draft_notice"),
    path("<uuid:public_id>/direct-notice/", desk.direct_notice, name="direct_notice"),
    path("<uuid:public_id>/evidence/<uuid:file_id>/", desk.evidence_file, name="evidence"),
]

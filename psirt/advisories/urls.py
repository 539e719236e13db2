"""URLs of the advisories. Public: /advisories/, /advisories/<ID>/, /affected/ (namespace "advisories",
included at the language root). Desk: /desk/advisories/… (namespace "desk:advisories")."""

from django.urls import path

from psirt.advisories.views import affected, desk, public

public_urlpatterns = [
    path("advisories/", public.advisory_list, name="list"),
    path("advisories/<str:advisory_id>/", public.advisory_detail, name="detail"),
    path("affected/", affected.affected, name="affected"),
]

desk_urlpatterns = [
    path("", desk.desk_list, name="list"),
    path("new/", desk.create, name="create"),
    path("policy/", desk.publication_policy, name="policy"),
    path("<uuid:public_id>/", desk.detail, name="detail"),
    path("<uuid:public_id>/edit/", desk.edit, name="edit"),
    path("<uuid:public_id>/preview/", desk.preview, name="preview"),
    path("<uuid:public_id>/action/", desk.action, name="action"),
    path("<uuid:public_id>/facts/", desk.facts_action, name="facts"),
]

"""URLs of the advisories. Public: /advisories/, /advisories/<ID>/, /affected/ (namespace "advisories",
included at the language root). Desk: /desk/advisories/… (namespace "desk:advisories")."""

from django.urls import path

from psirt.advisories import desk_views, views

public_urlpatterns = [
    path("advisories/", views.advisory_list, name="list"),
    path("advisories/<str:advisory_id>/", views.advisory_detail, name="detail"),
    path("affected/", views.affected, name="affected"),
]

desk_urlpatterns = [
    path("", desk_views.desk_list, name="list"),
    path("new/", desk_views.create, name="create"),
    path("<uuid:public_id>/", desk_views.detail, name="detail"),
    path("<uuid:public_id>/edit/", desk_views.edit, name="edit"),
    path("<uuid:public_id>/preview/", desk_views.preview, name="preview"),
    path("<uuid:public_id>/action/", desk_views.action, name="action"),
]

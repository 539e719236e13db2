from django.urls import path

from psirt.pages import views
from psirt.pages.models import STANDALONE_PAGES

public_urlpatterns = [
    path("", views.home, name="home"),
    *[path(f"{slug}/", views.page, {"slug": str(slug)}, name=str(slug)) for slug in STANDALONE_PAGES],
    path("pgp-key.asc", views.pgp_key, name="pgp_key"),
]

desk_urlpatterns = [
    path("organization/", views.organization_edit, name="organization"),
    path("pages/", views.page_list, name="page_list"),
    path("pages/<slug:slug>/", views.page_edit, name="page_edit"),
]

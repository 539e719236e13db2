from django.urls import path

from psirt.pages import views
from psirt.pages.models import PageSlug

public_urlpatterns = [
    path("", views.home, name="home"),
    *[path(f"{slug}/", views.page, {"slug": slug}, name=slug) for slug in PageSlug.values if slug != PageSlug.HOME],
]

desk_urlpatterns = [
    path("organization/", views.organization_edit, name="organization"),
    path("pages/", views.page_list, name="page_list"),
    path("pages/<slug:slug>/", views.page_edit, name="page_edit"),
]

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from psirt.cases import views

# Included under /<lang>/desk/cases/ with namespace "desk:cases" (psirt/urls.py).
desk_urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.case_list, name="list"),
    path("<uuid:public_id>/", views.case_detail, name="case"),
]

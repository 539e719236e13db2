from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from psirt.metrics.views import page

# Included under /<lang>/desk/metrics/ with namespace "desk:metrics" (psirt/urls.py).
desk_urlpatterns: list[URLPattern | URLResolver] = [
    path("", page.metrics_page, name="page"),
    path("public/", page.public_statistics, name="public"),
    path("<slug:table>.csv", page.metrics_csv, name="csv"),
]

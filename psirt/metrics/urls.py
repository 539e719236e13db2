from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from psirt.metrics.views import casefile, page

# Included under /<lang>/desk/metrics/ with namespace "desk:metrics" (psirt/urls.py).
desk_urlpatterns: list[URLPattern | URLResolver] = [
    path("", page.metrics_page, name="page"),
    path("public/", page.public_statistics, name="public"),
    path("<slug:table>.csv", page.metrics_csv, name="csv"),
]

# Included in the desk's patterns without a namespace, beside the case pages: "desk:case_file_pdf" and "…_zip".
case_file_urlpatterns: list[URLPattern | URLResolver] = [
    path("cases/<uuid:public_id>/file.pdf", casefile.case_file_pdf, name="case_file_pdf"),
    path("cases/<uuid:public_id>/file.zip", casefile.case_file_zip, name="case_file_zip"),
]

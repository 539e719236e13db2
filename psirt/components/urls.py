from django.urls import path

from psirt.components import views

# Included under /<lang>/desk/components/ with namespace "components" (psirt/urls.py).
desk_urlpatterns = [
    path("", views.index, name="index"),
    path("vulnerabilities/<str:vuln_id>/", views.vulnerability, name="vulnerability"),
    path("releases/<uuid:public_id>/", views.release, name="release"),
    path("sboms/<uuid:public_id>/", views.sbom_download, name="sbom_download"),
]

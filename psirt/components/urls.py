from django.urls import path

from psirt.components import public_release, public_vex, views

# Included under /<lang>/desk/components/ with namespace "components" (psirt/urls.py).
desk_urlpatterns = [
    path("", views.index, name="index"),
    path("vulnerabilities/<str:vuln_id>/", views.vulnerability, name="vulnerability"),
    path("releases/<uuid:public_id>/", views.release, name="release"),
    path("sboms/<uuid:public_id>/", views.sbom_download, name="sbom_download"),
    path("sboms/<uuid:public_id>/delete/", views.sbom_delete, name="sbom_delete"),
]

# Included under /<lang>/updates/ with namespace "components_public", beside the catalog's public pages.
public_urlpatterns = [
    path("<slug:slug>/releases/<uuid:public_id>/sbom/", public_release.sbom_download, name="sbom"),
]

# Included at the root, outside the language prefix (machine-readable documents): /vex/<vulnerability ID>/….
document_urlpatterns = [
    path("vex/<str:vuln_id>/csaf.json", public_vex.csaf, name="vex_csaf"),
    path("vex/<str:vuln_id>/openvex.json", public_vex.openvex, name="vex_openvex"),
    path("vex/<str:vuln_id>/cyclonedx.json", public_vex.cyclonedx, name="vex_cyclonedx"),
]

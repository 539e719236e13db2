from django.urls import path

from psirt.catalog.views import desk, public

# Included under /<lang>/updates/ with namespace "catalog", after the overview page (psirt/urls.py).
public_urlpatterns = [
    path("<slug:slug>/", public.product, name="product"),
    path("<slug:slug>/releases/<uuid:public_id>/", public.release, name="release"),
]

desk_urlpatterns = [
    path("", desk.desk_catalog, name="index"),
    path("lines/new/", desk.line_create, name="line_create"),
    path("lines/<slug:slug>/edit/", desk.line_edit, name="line_edit"),
    path("lines/<slug:slug>/delete/", desk.line_delete, name="line_delete"),
    path("products/new/", desk.product_create, name="product_create"),
    path("products/<slug:slug>/", desk.product_detail, name="product_detail"),
    path("products/<slug:slug>/edit/", desk.product_edit, name="product_edit"),
    path("products/<slug:slug>/delete/", desk.product_delete, name="product_delete"),
    path("products/<slug:slug>/releases/new/", desk.release_create, name="release_create"),
    path("releases/<uuid:public_id>/edit/", desk.release_edit, name="release_edit"),
    path("releases/<uuid:public_id>/delete/", desk.release_delete, name="release_delete"),
]

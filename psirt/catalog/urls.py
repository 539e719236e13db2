from django.urls import path

from psirt.catalog import views

public_urlpatterns = [
    path("", views.updates, name="updates"),
    path("<slug:slug>/", views.product, name="product"),
]

desk_urlpatterns = [
    path("", views.desk_catalog, name="index"),
    path("lines/new/", views.line_create, name="line_create"),
    path("lines/<slug:slug>/edit/", views.line_edit, name="line_edit"),
    path("lines/<slug:slug>/delete/", views.line_delete, name="line_delete"),
    path("products/new/", views.product_create, name="product_create"),
    path("products/<slug:slug>/", views.product_detail, name="product_detail"),
    path("products/<slug:slug>/edit/", views.product_edit, name="product_edit"),
    path("products/<slug:slug>/delete/", views.product_delete, name="product_delete"),
    path("products/<slug:slug>/releases/new/", views.release_create, name="release_create"),
    path("releases/<uuid:public_id>/edit/", views.release_edit, name="release_edit"),
    path("releases/<uuid:public_id>/delete/", views.release_delete, name="release_delete"),
]

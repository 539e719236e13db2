from django.urls import path

from psirt.catalog import views

public_urlpatterns = [
    path("", views.updates, name="updates"),
]

desk_urlpatterns = [
    path("", views.desk_catalog, name="index"),
]

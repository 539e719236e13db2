"""Intake URLs. Filled by the intake work (issue 3)."""

from django.urls import URLPattern, URLResolver

public_urlpatterns: list[URLPattern | URLResolver] = []
portal_urlpatterns: list[URLPattern | URLResolver] = []
desk_urlpatterns: list[URLPattern | URLResolver] = []

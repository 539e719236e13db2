"""A URL configuration of one route, for psirt.lib.tests.test_render_env."""

from django.http import HttpRequest, HttpResponse
from django.urls import path


def trivial(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok")


urlpatterns = [path("trivial/", trivial, name="bench-trivial")]

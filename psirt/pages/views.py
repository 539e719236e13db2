from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from psirt.pages.models import Page


def home(request: HttpRequest) -> HttpResponse:
    page = Page.objects.filter(slug="home").first()
    return render(request, "pages/home.html", {"page": page})


def page(request: HttpRequest, slug: str) -> HttpResponse:
    obj = Page.objects.filter(slug=slug).first()
    if obj is None:
        raise Http404
    return render(request, "pages/page.html", {"page": obj})


def organization_edit(request: HttpRequest) -> HttpResponse:
    raise Http404


def page_list(request: HttpRequest) -> HttpResponse:
    raise Http404


def page_edit(request: HttpRequest, slug: str) -> HttpResponse:
    raise Http404


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "errors/error.html", {"status": 400}, status=400)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "errors/error.html", {"status": 403}, status=403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "errors/error.html", {"status": 404}, status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    return render(request, "errors/error.html", {"status": 500}, status=500)

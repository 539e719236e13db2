from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from psirt.catalog.models import ProductLine


def updates(request: HttpRequest) -> HttpResponse:
    return render(request, "catalog/updates.html", {"lines": ProductLine.objects.prefetch_related("products")})


def desk_catalog(request: HttpRequest) -> HttpResponse:
    raise Http404

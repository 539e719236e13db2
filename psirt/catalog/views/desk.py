"""The desk's catalog editor: every staff member reads it, leads and handlers change it
(`psirt.catalog.access`)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from psirt.accounts.access import desk_user
from psirt.catalog import services
from psirt.catalog.access import can_edit_catalog, editor_view
from psirt.catalog.exceptions import CatalogError
from psirt.catalog.forms import FirmwareReleaseForm, ProductForm, ProductLineForm
from psirt.catalog.models import FirmwareRelease, Product, ProductLine
from psirt.lib.access import staff_required
from psirt.lib.forms import call_service

# Desk: overview ---------------------------------------------------------------------------------------------


@staff_required
def desk_catalog(request: HttpRequest) -> HttpResponse:
    lines = ProductLine.objects.prefetch_related("products__releases").order_by("position", "name_en")
    return render(
        request,
        "catalog/desk/index.html",
        {"lines": lines, "can_edit": can_edit_catalog(request.user)},
    )


# Desk: product lines ----------------------------------------------------------------------------------------


@editor_view
@require_http_methods(["GET", "POST"])
def line_create(request: HttpRequest) -> HttpResponse:
    form = ProductLineForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        line = call_service(
            form, services.create_product_line, refused=(CatalogError,), actor=desk_user(request), request=request
        )
        if line is not None:
            messages.success(request, _("Product line “%(name)s” added.") % {"name": line.name})
            return redirect("desk:catalog:index")
    return render(request, "catalog/desk/form.html", {"form": form, "title": _("New product line")})


@editor_view
@require_http_methods(["GET", "POST"])
def line_edit(request: HttpRequest, slug: str) -> HttpResponse:
    line = get_object_or_404(ProductLine, slug=slug)
    form = ProductLineForm(request.POST or None, instance=ProductLine.objects.get(pk=line.pk))
    if request.method == "POST" and form.is_valid():
        saved = call_service(
            form,
            services.update_product_line,
            refused=(CatalogError,),
            actor=desk_user(request),
            line=line,
            request=request,
        )
        if saved is not None:
            messages.success(request, _("Product line “%(name)s” saved.") % {"name": line.name})
            return redirect("desk:catalog:index")
    return render(
        request,
        "catalog/desk/form.html",
        {
            "form": form,
            "title": _("Edit product line"),
            "delete_url": reverse("desk:catalog:line_delete", args=[line.slug]),
        },
    )


@editor_view
@require_http_methods(["GET", "POST"])
def line_delete(request: HttpRequest, slug: str) -> HttpResponse:
    line = get_object_or_404(ProductLine, slug=slug)
    if request.method == "POST":
        try:
            services.delete_product_line(actor=desk_user(request), line=line, request=request)
        except CatalogError as exc:
            messages.error(request, str(exc.message))
            return redirect("desk:catalog:index")
        messages.success(request, _("Product line “%(name)s” deleted.") % {"name": line.name})
        return redirect("desk:catalog:index")
    return render(
        request,
        "catalog/desk/confirm_delete.html",
        {
            "obj": line,
            "kind": _("product line"),
            "blocked_by": line.products.count(),
            "cancel_url": reverse("desk:catalog:index"),
        },
    )


# Desk: products ---------------------------------------------------------------------------------------------


@staff_required
def product_detail(request: HttpRequest, slug: str) -> HttpResponse:
    obj = get_object_or_404(Product.objects.select_related("line"), slug=slug)
    releases = obj.releases.order_by("variant", "-position")
    return render(
        request,
        "catalog/desk/product.html",
        {"product": obj, "releases": releases, "can_edit": can_edit_catalog(request.user)},
    )


@editor_view
@require_http_methods(["GET", "POST"])
def product_create(request: HttpRequest) -> HttpResponse:
    initial: dict[str, Any] = {}
    line_slug = request.GET.get("line", "")[:80]
    if line_slug:
        initial["line"] = ProductLine.objects.filter(slug=line_slug).first()
    form = ProductForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        obj = call_service(
            form, services.create_product, refused=(CatalogError,), actor=desk_user(request), request=request
        )
        if obj is not None:
            messages.success(request, _("Product “%(name)s” added.") % {"name": obj.name})
            return redirect("desk:catalog:product_detail", slug=obj.slug)
    return render(request, "catalog/desk/form.html", {"form": form, "title": _("New product")})


@editor_view
@require_http_methods(["GET", "POST"])
def product_edit(request: HttpRequest, slug: str) -> HttpResponse:
    obj = get_object_or_404(Product, slug=slug)
    # The form validates a copy, so a rejected edit leaves `obj` as stored.
    form = ProductForm(request.POST or None, instance=Product.objects.get(pk=obj.pk))
    if request.method == "POST" and form.is_valid():
        saved = call_service(
            form,
            services.update_product,
            refused=(CatalogError,),
            actor=desk_user(request),
            product=obj,
            request=request,
        )
        if saved is not None:
            messages.success(request, _("Product “%(name)s” saved.") % {"name": obj.name})
            return redirect("desk:catalog:product_detail", slug=obj.slug)
    return render(
        request,
        "catalog/desk/form.html",
        {
            "form": form,
            "title": _("Edit product"),
            "product": obj,
            "delete_url": reverse("desk:catalog:product_delete", args=[obj.slug]),
        },
    )


@editor_view
@require_http_methods(["GET", "POST"])
def product_delete(request: HttpRequest, slug: str) -> HttpResponse:
    obj = get_object_or_404(Product, slug=slug)
    if request.method == "POST":
        try:
            services.delete_product(actor=desk_user(request), product=obj, request=request)
        except CatalogError as exc:
            messages.error(request, str(exc.message))
            return redirect("desk:catalog:product_detail", slug=obj.slug)
        messages.success(request, _("Product “%(name)s” deleted.") % {"name": obj.name})
        return redirect("desk:catalog:index")
    return render(
        request,
        "catalog/desk/confirm_delete.html",
        {
            "obj": obj,
            "kind": _("product"),
            "release_count": obj.releases.count(),
            "cancel_url": reverse("desk:catalog:product_detail", args=[obj.slug]),
        },
    )


# Desk: firmware releases ------------------------------------------------------------------------------------


@editor_view
@require_http_methods(["GET", "POST"])
def release_create(request: HttpRequest, slug: str) -> HttpResponse:
    obj = get_object_or_404(Product, slug=slug)
    initial = {"position": services.next_release_position(product=obj)}
    form = FirmwareReleaseForm(request.POST or None, product=obj, initial=initial)
    if request.method == "POST" and form.is_valid():
        release = call_service(
            form,
            services.create_release,
            refused=(CatalogError,),
            actor=desk_user(request),
            product=obj,
            request=request,
        )
        if release is not None:
            messages.success(request, _("Release %(version)s added.") % {"version": release.version})
            return redirect("desk:catalog:product_detail", slug=obj.slug)
    return render(
        request,
        "catalog/desk/form.html",
        {"form": form, "title": _("New firmware release"), "product": obj},
    )


def _release(public_id: Any) -> FirmwareRelease:
    return get_object_or_404(FirmwareRelease.objects.select_related("product"), public_id=public_id)


@editor_view
@require_http_methods(["GET", "POST"])
def release_edit(request: HttpRequest, public_id: Any) -> HttpResponse:
    release = _release(public_id)
    form = FirmwareReleaseForm(
        request.POST or None, product=release.product, instance=FirmwareRelease.objects.get(pk=release.pk)
    )
    if request.method == "POST" and form.is_valid():
        saved = call_service(
            form,
            services.update_release,
            refused=(CatalogError,),
            actor=desk_user(request),
            release=release,
            request=request,
        )
        if saved is not None:
            messages.success(request, _("Release %(version)s saved.") % {"version": release.version})
            return redirect("desk:catalog:product_detail", slug=release.product.slug)
    return render(
        request,
        "catalog/desk/form.html",
        {
            "form": form,
            "title": _("Edit firmware release"),
            "product": release.product,
            "release": release,
            "delete_url": reverse("desk:catalog:release_delete", args=[release.public_id]),
        },
    )


@editor_view
@require_http_methods(["GET", "POST"])
def release_delete(request: HttpRequest, public_id: Any) -> HttpResponse:
    release = _release(public_id)
    product_slug = release.product.slug
    if request.method == "POST":
        try:
            services.delete_release(actor=desk_user(request), release=release, request=request)
        except CatalogError as exc:
            messages.error(request, str(exc.message))
        else:
            messages.success(request, _("Release %(version)s deleted.") % {"version": release.version})
        return redirect("desk:catalog:product_detail", slug=product_slug)
    return render(
        request,
        "catalog/desk/confirm_delete.html",
        {
            "obj": release,
            "kind": _("firmware release"),
            "cancel_url": reverse("desk:catalog:release_edit", args=[release.public_id]),
        },
    )

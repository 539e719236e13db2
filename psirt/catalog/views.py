"""Public Software updates pages (SPEC P8) and the desk's catalog editor.

Desk access: every staff member may read the catalog (engineers need it to talk about their products);
leads and handlers may change it (handlers record fixed releases while coordinating a case); engineers get
403 on the editing pages — the catalog is not confidential, so there is nothing to hide behind a 404."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms import BaseForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from psirt.accounts.models import Role
from psirt.catalog import services
from psirt.catalog.forms import FirmwareReleaseForm, ProductForm, ProductLineForm
from psirt.catalog.models import FirmwareRelease, Product, ProductLine
from psirt.catalog.queries import MAX_QUERY_CHARS, QueryTooLong, clean_query, public_catalog, public_product
from psirt.lib.access import staff_required
from psirt.pages.models import PageSlug
from psirt.pages.texts import rendered_page

# Public pages ----------------------------------------------------------------------------------------------


def updates(request: HttpRequest) -> HttpResponse:
    """All product lines → products → latest releases, with a search by product name or model number."""
    raw = request.GET.get("q", "")
    error = ""
    status = 200
    try:
        query = clean_query(raw)
    except QueryTooLong:
        query = ""
        status = 400
        error = _("The search text is too long. Use at most %(max)d characters, e.g. a model name.") % {
            "max": MAX_QUERY_CHARS
        }
    lines = public_catalog(query) if not error else []
    context = {
        "lines": lines,
        "query": query,
        "query_error": error,
        "max_query": MAX_QUERY_CHARS,
        "intro": rendered_page(PageSlug.UPDATES),
        "catalog_empty": not lines and not query and not error,
    }
    return render(request, "catalog/updates.html", context, status=status)


def product(request: HttpRequest, slug: str) -> HttpResponse:
    """Every public release of one product, newest first per variant, with release notes."""
    entry = public_product(slug)
    if entry is None:
        # A friendly page with the way back, not the bare error page: people follow old links to products.
        return render(request, "catalog/product_not_found.html", {"max_query": MAX_QUERY_CHARS}, status=404)
    return render(request, "catalog/product.html", {"entry": entry, "product": entry.product})


# Desk: access ----------------------------------------------------------------------------------------------


def can_edit_catalog(user: Any) -> bool:
    """Leads and handlers edit the catalog; product engineers read it."""
    return bool(user.is_authenticated and user.is_active and user.role in (Role.LEAD, Role.HANDLER))


def editor_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Signed-in leads and handlers only; engineers get 403, anonymous visitors the sign-in page."""

    @staff_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not can_edit_catalog(request.user):
            raise PermissionDenied(_("Only leads and handlers may change the catalog."))
        return view(request, *args, **kwargs)

    return wrapped


def _service_errors(form: BaseForm, exc: ValidationError) -> None:
    """Put a service's validation errors on the form (next to the field when the form has it)."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


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
        try:
            line = services.create_product_line(actor=request.user, request=request, **form.cleaned_data)
        except ValidationError as exc:
            _service_errors(form, exc)
        except services.CatalogError as exc:
            form.add_error(None, str(exc.message))
        else:
            messages.success(request, _("Product line “%(name)s” added.") % {"name": line.name})
            return redirect("desk:catalog:index")
    return render(request, "catalog/desk/form.html", {"form": form, "title": _("New product line")})


@editor_view
@require_http_methods(["GET", "POST"])
def line_edit(request: HttpRequest, slug: str) -> HttpResponse:
    line = get_object_or_404(ProductLine, slug=slug)
    form = ProductLineForm(request.POST or None, instance=ProductLine.objects.get(pk=line.pk))
    if request.method == "POST" and form.is_valid():
        try:
            services.update_product_line(actor=request.user, line=line, request=request, **form.cleaned_data)
        except ValidationError as exc:
            _service_errors(form, exc)
        except services.CatalogError as exc:
            form.add_error(None, str(exc.message))
        else:
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
            services.delete_product_line(actor=request.user, line=line, request=request)
        except services.CatalogError as exc:
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
        try:
            obj = services.create_product(actor=request.user, request=request, **form.cleaned_data)
        except ValidationError as exc:
            _service_errors(form, exc)
        except services.CatalogError as exc:
            form.add_error(None, str(exc.message))
        else:
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
        try:
            services.update_product(actor=request.user, product=obj, request=request, **form.cleaned_data)
        except ValidationError as exc:
            _service_errors(form, exc)
        except services.CatalogError as exc:
            form.add_error(None, str(exc.message))
        else:
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
            services.delete_product(actor=request.user, product=obj, request=request)
        except services.CatalogError as exc:
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
        try:
            release = services.create_release(actor=request.user, product=obj, request=request, **form.cleaned_data)
        except ValidationError as exc:
            _service_errors(form, exc)
        except services.CatalogError as exc:
            form.add_error(None, str(exc.message))
        else:
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
        try:
            services.update_release(actor=request.user, release=release, request=request, **form.cleaned_data)
        except ValidationError as exc:
            _service_errors(form, exc)
        except services.CatalogError as exc:
            form.add_error(None, str(exc.message))
        else:
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
            services.delete_release(actor=request.user, release=release, request=request)
        except services.CatalogError as exc:
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

"""The desk editors for the organization profile and the pages: leads only, everyone else gets 404."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from psirt.accounts.access import desk_user
from psirt.lib.access import lead_required
from psirt.lib.forms import call_service
from psirt.lib.markdown import render_markdown
from psirt.lib.pgp import fingerprint, format_fingerprint
from psirt.organization.models import OrganizationProfile
from psirt.organization.services import update_organization
from psirt.pages import services
from psirt.pages.defaults import DEFAULT_PAGES
from psirt.pages.forms import OrganizationForm, PageForm
from psirt.pages.models import Page, PageSlug
from psirt.pages.queries import fill_placeholders, get_page


@lead_required
@require_http_methods(["GET", "POST"])
def organization_edit(request: HttpRequest) -> HttpResponse:
    profile = OrganizationProfile.get()
    form = OrganizationForm(request.POST or None, instance=OrganizationProfile.get())
    if request.method == "POST" and form.is_valid():
        saved = call_service(form, update_organization, actor=desk_user(request), request=request)
        if saved is not None:
            messages.success(request, _("The organization profile was saved."))
            return redirect("desk:pages:organization")
    fpr = fingerprint(profile.pgp_public_key)
    return render(
        request,
        "pages/desk/organization.html",
        {"form": form, "profile": profile, "pgp_fingerprint": format_fingerprint(fpr) if fpr else ""},
    )


@lead_required
def page_list(request: HttpRequest) -> HttpResponse:
    pages = {p.slug: p for p in Page.objects.all()}
    rows = [(slug, pages.get(slug) or get_page(slug)) for slug in DEFAULT_PAGES]
    labels = dict(PageSlug.choices)
    return render(
        request,
        "pages/desk/page_list.html",
        {"rows": [(slug, labels.get(slug, slug), page) for slug, page in rows]},
    )


@lead_required
@require_http_methods(["GET", "POST"])
def page_edit(request: HttpRequest, slug: str) -> HttpResponse:
    if slug not in DEFAULT_PAGES:
        raise Http404
    page_obj = get_page(slug)
    action = request.POST.get("action", "save") if request.method == "POST" else ""
    if action == "restore":
        services.restore_default_page(actor=desk_user(request), page=page_obj, request=request)
        messages.success(request, _("The default text was restored."))
        return redirect("desk:pages:page_edit", slug=slug)
    form = PageForm(request.POST or None, instance=Page.objects.get(pk=page_obj.pk))
    preview: dict[str, Any] | None = None
    if request.method == "POST" and form.is_valid():
        if action == "preview":
            org = OrganizationProfile.get()
            # The preview renders exactly as the public page will, but saves nothing.
            with translation.override("en"):
                html_en = render_markdown(fill_placeholders(form.cleaned_data["body_en"], org))
            with translation.override("zh-hans"):
                # Placeholders take the profile's Chinese values, as Chinese visitors will see them.
                html_zh = render_markdown(fill_placeholders(form.cleaned_data["body_zh"], org))
            preview = {
                "title_en": form.cleaned_data["title_en"],
                "title_zh": form.cleaned_data["title_zh"],
                "html_en": html_en,
                "html_zh": html_zh,
            }
        else:
            saved = call_service(form, services.update_page, actor=desk_user(request), page=page_obj, request=request)
            if saved is not None:
                messages.success(request, _("The page “%(title)s” was saved.") % {"title": page_obj.title})
                return redirect("desk:pages:page_list")
    return render(
        request,
        "pages/desk/page_edit.html",
        {
            "form": form,
            "page": page_obj,
            "label": dict(PageSlug.choices).get(slug, slug),
            "preview": preview,
            "public_url": _public_url(slug),
        },
    )


def _public_url(slug: str) -> str:
    if slug == PageSlug.HOME:
        return reverse("pages:home")
    if slug == PageSlug.UPDATES:
        return reverse("catalog:updates")
    return reverse(f"pages:{slug}")

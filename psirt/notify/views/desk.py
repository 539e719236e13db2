"""Desk pages of notifications, for leads only (to everyone else they do not exist): deliveries with retry,
subscribers (the only place addresses are shown), webhooks, customer organizations."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from psirt.accounts.models import User
from psirt.advisories.models import Advisory, AdvisoryState
from psirt.lib.access import lead_required
from psirt.mail.models import OutboxStatus
from psirt.notify import queries, services
from psirt.notify.exceptions import NotifyError
from psirt.notify.forms import CustomerImportForm, NotifyCustomersForm, WebhookForm
from psirt.notify.models import CustomerOrganization, Delivery, Subscription, Webhook
from psirt.notify.services import customers as customer_import_service


def lead(request: HttpRequest) -> User:
    """The lead acting on a desk page (`lead_required` has turned everyone else away)."""
    user = request.user
    assert isinstance(user, User)
    return user


@lead_required
@require_GET
def deliveries(request: HttpRequest) -> HttpResponse:
    status, rows = queries.deliveries(request.GET.get("status", "problems"))
    counts = queries.delivery_counts()
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "notify/desk/deliveries.html",
        {
            "page": page,
            "status": status,
            "summary": [(label, counts.get(value, 0)) for value, label in OutboxStatus.choices],
            "statuses": OutboxStatus.choices,
            "outage": queries.outage(),
        },
    )


@lead_required
@require_POST
def retry(request: HttpRequest, public_id: str) -> HttpResponse:
    delivery = get_object_or_404(Delivery, public_id=public_id)
    try:
        services.retry_delivery(delivery=delivery, actor=lead(request), request=request)
    except NotifyError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The delivery is queued again."))
    return redirect("desk:notify:deliveries")


@lead_required
@require_GET
def subscribers(request: HttpRequest) -> HttpResponse:
    rows = Subscription.objects.prefetch_related("products", "product_lines").order_by("-confirmed_at", "-created_at")
    page = Paginator(rows, 100).get_page(request.GET.get("page"))
    confirmed = Subscription.objects.filter(confirmed_at__isnull=False).count()
    return render(request, "notify/desk/subscribers.html", {"page": page, "confirmed": confirmed})


@lead_required
@require_http_methods(["GET", "POST"])
def webhooks(request: HttpRequest) -> HttpResponse:
    secret = None
    status = 200
    form = WebhookForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            try:
                _hook, secret = services.register_webhook(
                    name=form.cleaned_data["name"],
                    url=form.cleaned_data["url"],
                    all_products=form.cleaned_data["all_products"],
                    products=list(form.cleaned_data["products"]),
                    actor=lead(request),
                    request=request,
                )
            except NotifyError as exc:
                form.add_error(None, exc.message)
                status = 400
            else:
                form = WebhookForm()
        else:
            status = 400
    hooks = queries.webhooks_with_failures()
    # The secret is in this one response only; it is never shown again.
    response = render(
        request, "notify/desk/webhooks.html", {"form": form, "hooks": hooks, "secret": secret}, status=status
    )
    response["Cache-Control"] = "no-store"
    return response


@lead_required
@require_POST
def webhook_toggle(request: HttpRequest, public_id: str) -> HttpResponse:
    hook = get_object_or_404(Webhook, public_id=public_id)
    services.set_webhook_active(webhook=hook, active=not hook.active, actor=lead(request), request=request)
    return redirect("desk:notify:webhooks")


def _customers_page(request: HttpRequest, **extra: object) -> HttpResponse:
    status = int(extra.pop("status", 200))  # type: ignore[call-overload]
    orgs = CustomerOrganization.objects.prefetch_related("products").annotate(contact_count=Count("contacts"))
    context = {
        "orgs": orgs,
        "import_form": extra.pop("import_form", None) or CustomerImportForm(),
        "notify_form": extra.pop("notify_form", None) or NotifyCustomersForm(),
        **extra,
    }
    return render(request, "notify/desk/customers.html", context, status=status)


@lead_required
@require_GET
def customers(request: HttpRequest) -> HttpResponse:
    return _customers_page(request)


@lead_required
@require_POST
def customer_import(request: HttpRequest) -> HttpResponse:
    form = CustomerImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return _customers_page(request, import_form=form, status=400)
    upload = form.cleaned_data["file"]
    if upload.size > customer_import_service.MAX_BYTES:
        form.add_error("file", _("The file is larger than 1 MB: split it into smaller files."))
        return _customers_page(request, import_form=form, status=400)
    try:
        result = customer_import_service.import_customers_csv(data=upload.read(), actor=lead(request), request=request)
    except NotifyError as exc:
        form.add_error("file", exc.message)
        return _customers_page(request, import_form=form, status=400)
    if result.errors:
        return _customers_page(request, import_form=form, import_errors=result.errors, status=400)
    messages.success(
        request,
        _("Imported: %(orgs)d new organizations, %(contacts)d new contacts.")
        % {"orgs": result.organizations, "contacts": result.contacts},
    )
    return redirect("desk:notify:customers")


@lead_required
@require_POST
def customer_notify(request: HttpRequest) -> HttpResponse:
    """Notify the customers running the products of a published advisory."""
    form = NotifyCustomersForm(request.POST)
    if not form.is_valid():
        return _customers_page(request, notify_form=form, status=400)
    advisory = Advisory.objects.filter(
        advisory_id=form.cleaned_data["advisory_id"].strip().upper(), state=AdvisoryState.PUBLISHED
    ).first()
    if advisory is None:
        form.add_error("advisory_id", _("No published advisory has this ID."))
        return _customers_page(request, notify_form=form, status=400)
    revision = advisory.revisions.order_by("-number").values_list("number", flat=True).first() or 1
    count = services.notify_customers(advisory=advisory, revision=revision, actor=lead(request), request=request)
    text = ngettext(
        "%(count)d customer contact is being notified.", "%(count)d customer contacts are being notified.", count
    )
    messages.success(request, text % {"count": count})
    return redirect(reverse("desk:notify:deliveries") + "?status=all")

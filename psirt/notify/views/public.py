"""Public subscription pages: subscribe (double opt-in), confirm, manage, one-click unsubscribe."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from psirt.counters.exceptions import RateLimited
from psirt.notify import services
from psirt.notify.exceptions import NotifyError
from psirt.notify.forms import ManageForm, SubscribeForm
from psirt.notify.services import tokens


@require_http_methods(["GET", "POST"])
def subscribe(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = SubscribeForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.request_subscription(
                    email=data["email"],
                    language=data["language"],
                    min_severity=data["min_severity"],
                    all_products=data["all_products"],
                    products=data["products"],
                    product_lines=data["product_lines"],
                    request=request,
                )
            except RateLimited as exc:
                response = render(request, "notify/subscribe.html", {"form": form, "refusal": exc.message}, status=429)
                response["Retry-After"] = str(exc.retry_after)
                return response
            except NotifyError as exc:
                form.add_error(None, exc.message)
            else:
                # The same answer for every address, known or not.
                return redirect(reverse("notify:subscribe") + "?requested=1")
        return render(request, "notify/subscribe.html", {"form": form}, status=400)
    form = SubscribeForm(initial={"language": translation.get_language() or "en"})
    return render(request, "notify/subscribe.html", {"form": form, "requested": "requested" in request.GET})


@require_http_methods(["GET", "POST"])
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    # GET only shows a button: link scanners in mail systems open links, and must not confirm for a person.
    if tokens.parse(token, tokens.CONFIRM) is None:
        return render(request, "notify/link_invalid.html", status=404)
    if request.method == "POST":
        sub = services.confirm_subscription(token=token, request=request)
        if sub is None:
            return render(request, "notify/link_invalid.html", status=404)
        manage_token = tokens.make(sub.public_id, tokens.MANAGE)
        return render(request, "notify/confirmed.html", {"manage_token": manage_token})
    if services.subscription_for_token(token, tokens.CONFIRM) is None:
        return render(request, "notify/link_invalid.html", status=404)
    return render(request, "notify/confirm.html")


@require_http_methods(["GET", "POST"])
def manage(request: HttpRequest, token: str) -> HttpResponse:
    sub = services.subscription_for_token(token, tokens.MANAGE)
    if sub is None or sub.confirmed_at is None:
        return render(request, "notify/link_invalid.html", status=404)
    saved = False
    status = 200
    if request.method == "POST":
        form = ManageForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            services.update_subscription(
                subscription=sub,
                language=data["language"],
                min_severity=data["min_severity"],
                all_products=data["all_products"],
                products=data["products"],
                product_lines=data["product_lines"],
                request=request,
            )
            saved = True
        else:
            status = 400
    else:
        form = ManageForm(
            initial={
                "language": sub.language,
                "min_severity": sub.min_severity,
                "all_products": sub.all_products,
                "products": list(sub.products.values_list("slug", flat=True)),
                "product_lines": list(sub.product_lines.values_list("slug", flat=True)),
            }
        )
    context = {"form": form, "saved": saved, "token": token}
    return render(request, "notify/manage.html", context, status=status)


@csrf_exempt  # RFC 8058: the mail client POSTs without a session; the token in the URL is the credential.
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    sub = services.subscription_for_token(token, tokens.MANAGE)
    language = sub.language if sub is not None else "en"
    with translation.override(language):
        if request.method == "POST":
            done = services.unsubscribe(token=token, request=request)
            # An unknown token answers like a used one: unsubscribing twice is not an error.
            return render(request, "notify/unsubscribed.html", {"done": done})
        if sub is None:
            return render(request, "notify/unsubscribed.html", {"done": False})
        return render(request, "notify/unsubscribe.html", {"token": token})

"""Desk pages for accounts: the desk home, users (leads only) and each person's own API tokens."""

from __future__ import annotations

from allauth.mfa.models import Authenticator
from django.contrib import messages
from django.db.models import Exists, OuterRef
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from psirt.accounts import services
from psirt.accounts.access import KEY_ID_RE, SCOPES, desk_user, get_user_for
from psirt.accounts.exceptions import AccountError, EmailTaken
from psirt.accounts.forms import InviteForm, RoleForm, TokenForm
from psirt.accounts.models import ApiToken, User
from psirt.lib.access import lead_required, staff_required


@staff_required
@require_GET
def desk_home(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/desk_home.html")


def _users_page(request: HttpRequest, form: InviteForm, status: int = 200) -> HttpResponse:
    totp = Authenticator.objects.filter(user=OuterRef("pk"), type=Authenticator.Type.TOTP)
    users = (
        User.objects.annotate(has_totp=Exists(totp))
        .prefetch_related("product_lines")
        .order_by("-is_active", "role", "email")
    )
    return render(request, "accounts/users.html", {"users": users, "form": form}, status=status)


@lead_required
@require_GET
def users(request: HttpRequest) -> HttpResponse:
    return _users_page(request, InviteForm())


@lead_required
@require_POST
def user_invite(request: HttpRequest) -> HttpResponse:
    form = InviteForm(request.POST)
    if not form.is_valid():
        return _users_page(request, form, status=400)
    try:
        user = services.invite_user(
            email=form.cleaned_data["email"],
            name=form.cleaned_data["name"],
            role=form.cleaned_data["role"],
            product_lines=form.cleaned_data["product_lines"],
            language=form.cleaned_data["language"] or "en",
            actor=desk_user(request),
            request=request,
        )
    except EmailTaken as exc:
        form.add_error("email", exc.message)
        return _users_page(request, form, status=400)
    except AccountError as exc:
        form.add_error(None, exc.message)
        return _users_page(request, form, status=400)
    messages.success(request, _("Invitation sent to %(email)s.") % {"email": user.email})
    return HttpResponseRedirect(reverse("desk:user_detail", args=[user.public_id]))


def _detail_page(request: HttpRequest, subject: User, form: RoleForm | None = None, status: int = 200) -> HttpResponse:
    if form is None:
        form = RoleForm(initial={"role": subject.role, "product_lines": list(subject.product_lines.all())})
    context = {
        "subject": subject,
        "form": form,
        "has_totp": Authenticator.objects.filter(user=subject, type=Authenticator.Type.TOTP).exists(),
        "tokens": ApiToken.objects.filter(user=subject),
        "is_self": subject.pk == request.user.pk,
    }
    return render(request, "accounts/user_detail.html", context, status=status)


@lead_required
@require_GET
def user_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    return _detail_page(request, get_user_for(desk_user(request), public_id))


@lead_required
@require_POST
def user_role(request: HttpRequest, public_id: str) -> HttpResponse:
    subject = get_user_for(desk_user(request), public_id)
    form = RoleForm(request.POST)
    if not form.is_valid():
        return _detail_page(request, subject, form, status=400)
    try:
        services.change_role(user=subject, role=form.cleaned_data["role"], actor=desk_user(request), request=request)
        services.set_product_lines(
            user=subject,
            product_lines=form.cleaned_data["product_lines"],
            actor=desk_user(request),
            request=request,
        )
    except AccountError as exc:
        form.add_error(None, exc.message)
        return _detail_page(request, subject, form, status=400)
    messages.success(request, _("Saved."))
    return HttpResponseRedirect(reverse("desk:user_detail", args=[subject.public_id]))


@lead_required
@require_POST
def user_active(request: HttpRequest, public_id: str) -> HttpResponse:
    subject = get_user_for(desk_user(request), public_id)
    action = request.POST.get("action")
    try:
        if action == "deactivate":
            services.deactivate_user(user=subject, actor=desk_user(request), request=request)
            messages.success(request, _("The account is deactivated and its API tokens are revoked."))
        elif action == "reactivate":
            services.reactivate_user(user=subject, actor=desk_user(request), request=request)
            messages.success(request, _("The account is active again."))
        else:
            messages.error(request, _("Unknown action."))
    except AccountError as exc:
        messages.error(request, exc.message)
    return HttpResponseRedirect(reverse("desk:user_detail", args=[subject.public_id]))


@lead_required
@require_POST
def user_reset_mfa(request: HttpRequest, public_id: str) -> HttpResponse:
    subject = get_user_for(desk_user(request), public_id)
    try:
        services.reset_mfa(user=subject, actor=desk_user(request), request=request)
        messages.success(request, _("Two-factor authentication was reset; they will enrol again at next sign-in."))
    except AccountError as exc:
        messages.error(request, exc.message)
    return HttpResponseRedirect(reverse("desk:user_detail", args=[subject.public_id]))


@lead_required
@require_POST
def user_resend_invite(request: HttpRequest, public_id: str) -> HttpResponse:
    subject = get_user_for(desk_user(request), public_id)
    try:
        services.resend_invitation(user=subject, actor=desk_user(request), request=request)
        messages.success(request, _("A new link to set a password was sent to %(email)s.") % {"email": subject.email})
    except AccountError as exc:
        messages.error(request, exc.message)
    return HttpResponseRedirect(reverse("desk:user_detail", args=[subject.public_id]))


def _tokens_page(request: HttpRequest, form: TokenForm, status: int = 200) -> HttpResponse:
    user = desk_user(request)
    context = {"tokens": ApiToken.objects.filter(user=user), "form": form, "scopes": SCOPES}
    return render(request, "accounts/tokens.html", context, status=status)


@staff_required
@require_http_methods(["GET", "POST"])
def tokens(request: HttpRequest) -> HttpResponse:
    """The signed-in person's own tokens; POST creates one and shows it once (never again)."""
    user = desk_user(request)
    if request.method != "POST":
        return _tokens_page(request, TokenForm(role=user.role))
    form = TokenForm(request.POST, role=user.role)
    if not form.is_valid():
        return _tokens_page(request, form, status=400)
    try:
        token, raw = services.create_token(
            user=user,
            name=form.cleaned_data["name"],
            scopes=form.cleaned_data["scopes"],
            expires_days=form.cleaned_data["expires_days"] or None,
            actor=user,
            request=request,
        )
    except AccountError as exc:
        form.add_error(None, exc.message)
        return _tokens_page(request, form, status=400)
    # Shown in this response only: a reload re-posts (and the browser asks first), nothing is stored.
    return render(request, "accounts/token_created.html", {"token": token, "raw": raw})


@staff_required
@require_POST
def token_revoke(request: HttpRequest, key_id: str) -> HttpResponse:
    # Checked before any query: NUL bytes and other junk never reach the database.
    if not KEY_ID_RE.fullmatch(key_id):
        raise Http404
    user = desk_user(request)
    token = ApiToken.objects.filter(key_id=key_id, user=user).first()
    if token is None:
        raise Http404
    services.revoke_token(token=token, actor=desk_user(request), request=request)
    messages.success(request, _("Token %(name)s is revoked.") % {"name": token.name})
    return HttpResponseRedirect(reverse("desk:tokens"))

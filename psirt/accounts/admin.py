"""Django admin for accounts ("raw data", leads only). Sign-in to the admin goes through allauth's page, so
throttling and two-factor apply there too; changes to roles and activity go through the services (audited)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

# Imported first so their registrations exist to be undone below (autodiscover reaches them later).
import allauth.mfa.admin  # noqa: F401
import django.contrib.auth.admin  # noqa: F401
from allauth.mfa.models import Authenticator
from django import forms
from django.contrib import admin, messages
from django.contrib.auth.models import Group
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from psirt.accounts import services
from psirt.accounts.models import ApiToken, Role, User


def admin_login(request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
    """Replaces the admin's own login form: everyone signs in through allauth (throttled, two-factor). A
    signed-in non-lead gets 404: the admin does not exist for them."""
    if request.user.is_authenticated:
        raise Http404
    next_url = request.GET.get("next") or reverse("admin:index")
    return HttpResponseRedirect(reverse("account_login") + "?" + urlencode({"next": next_url}))


# The default site's login view is looked up on the instance when its URLs are built (psirt/urls.py).
admin.site.login = admin_login  # type: ignore[method-assign]

# Authenticators change only through their owner's enrolment or a lead's audited reset (desk → Users);
# groups and permission rows are unused (roles decide access).
admin.site.unregister(Authenticator)
admin.site.unregister(Group)

ADMIN_APP_LIST = admin.site.get_app_list
# allauth's e-mail addresses (app label "account") belong to the same people as psirt's users and tokens.
MERGED_INTO_ACCOUNTS = "account"


def get_app_list(request: HttpRequest, app_label: str | None = None) -> list[dict[str, Any]]:
    """The admin's sections, with allauth's account models listed in psirt's one "Accounts" section."""
    apps = ADMIN_APP_LIST(request, app_label)
    ours = next((app for app in apps if app["app_label"] == "accounts"), None)
    theirs = next((app for app in apps if app["app_label"] == MERGED_INTO_ACCOUNTS), None)
    if ours is not None and theirs is not None:
        ours["models"] = sorted([*ours["models"], *theirs["models"]], key=lambda model: str(model["name"]))
        apps.remove(theirs)
    return apps


# Like the login view, the section list is looked up on the instance by the index page and the navigation sidebar.
admin.site.get_app_list = get_app_list  # type: ignore[method-assign]


class UserAdminForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["name", "role", "product_lines", "language", "is_active"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        user = self.instance
        losing_lead = (
            user.role == Role.LEAD
            and user.is_active
            and (data.get("role") != Role.LEAD or not data.get("is_active", True))
        )
        if losing_lead and not User.objects.filter(role=Role.LEAD, is_active=True).exclude(pk=user.pk).exists():
            raise forms.ValidationError(_("This is the last active lead; make someone else a lead first."))
        return data


@admin.register(User)
class UserAdmin(admin.ModelAdmin):
    form = UserAdminForm
    list_display = ["email", "name", "role", "is_active", "last_login", "date_joined"]
    list_filter = ["role", "is_active", "product_lines"]
    search_fields = ["email", "name"]
    readonly_fields = ["email", "public_id", "last_login", "date_joined"]
    fields = [
        "email",
        "public_id",
        "name",
        "role",
        "product_lines",
        "language",
        "is_active",
        "last_login",
        "date_joined",
    ]
    filter_horizontal = ["product_lines"]
    ordering = ["email"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Accounts are created by invitation (desk → Users), which mails a set-password link.
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Deactivate instead: audit events and cases keep pointing at the person.
        return False

    def save_model(self, request: HttpRequest, obj: User, form: forms.ModelForm, change: bool) -> None:
        old = User.objects.get(pk=obj.pk)
        actor: User = request.user  # type: ignore[assignment]
        new_role, new_active = obj.role, obj.is_active
        # Role and activity change through the services, which audit them; the other fields save as usual.
        obj.role, obj.is_active = old.role, old.is_active
        obj.save(update_fields=["name", "language"])
        if new_role != old.role:
            services.change_role(user=obj, role=new_role, actor=actor, request=request)
        if new_active != old.is_active:
            if new_active:
                services.reactivate_user(user=obj, actor=actor, request=request)
            else:
                services.deactivate_user(user=obj, actor=actor, request=request)

    def save_related(self, request: HttpRequest, form: forms.ModelForm, formsets: Any, change: bool) -> None:
        services.set_product_lines(
            user=form.instance,
            product_lines=form.cleaned_data.get("product_lines") or [],
            actor=request.user,  # type: ignore[arg-type]
            request=request,
        )
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "key_id", "user", "created_at", "expires_at", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["name", "key_id", "user__email"]
    # The hash is not shown: it is useless to a person and only helps an attacker test guesses offline.
    fields = ("name", "key_id", "user", "scopes", "created_at", "expires_at", "last_used_at", "revoked_at")
    readonly_fields = fields
    actions = ["revoke_selected"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # created in the desk or with `psirt token create`, where the token is shown once

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # revoke instead; the row documents what existed

    @admin.action(description=_("Revoke selected tokens"))
    def revoke_selected(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        count = 0
        for token in queryset.filter(revoked_at__isnull=True):
            services.revoke_token(token=token, actor=request.user, request=request)  # type: ignore[arg-type]
            count += 1
        text = ngettext("%(n)d token revoked.", "%(n)d tokens revoked.", count) % {"n": count}
        self.message_user(request, text, messages.SUCCESS)

"""Desk forms for users and API tokens. They validate shape only; the services decide what is allowed."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from psirt.accounts.access import SCOPES, allowed_scopes
from psirt.accounts.models import Role, User


def product_lines_field(**kwargs: Any) -> forms.Field:
    """A checkbox list of the product lines `User.product_lines` may hold, asked of the relation itself so
    that accounts need not know the catalog app that defines them."""
    field = User._meta.get_field("product_lines").formfield(
        label=_("Product lines"), required=False, widget=forms.CheckboxSelectMultiple, **kwargs
    )
    assert field is not None
    return field


class InviteForm(forms.Form):
    email = forms.EmailField(label=_("E-mail address"), max_length=254)
    name = forms.CharField(label=_("Name"), max_length=150, required=False)
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.HANDLER)
    product_lines = product_lines_field(
        help_text=_("For product engineers: the lines whose cases they may be invited to.")
    )
    language = forms.ChoiceField(
        label=_("Language of the invitation"),
        choices=[("en", "English"), ("zh-hans", "简体中文")],
        initial="en",
        required=False,
    )


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)
    product_lines = product_lines_field(help_text="")


EXPIRY_CHOICES = [
    ("30", _("30 days")),
    ("90", _("90 days")),
    ("365", _("1 year")),
    ("0", _("Never expires")),
]


class TokenForm(forms.Form):
    name = forms.CharField(
        label=_("Name"), max_length=100, help_text=_("What uses this token, e.g. “ticket system sync”.")
    )
    scopes = forms.MultipleChoiceField(label=_("Scopes"), widget=forms.CheckboxSelectMultiple, choices=())
    expires_days = forms.TypedChoiceField(label=_("Expires after"), choices=EXPIRY_CHOICES, coerce=int, initial="90")

    def __init__(self, *args: Any, role: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        allowed = allowed_scopes(role)
        field = self.fields["scopes"]
        assert isinstance(field, forms.MultipleChoiceField)
        field.choices = [(key, f"{key} — {label}") for key, label in SCOPES.items() if key in allowed]

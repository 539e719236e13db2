"""The filter of the audit log's desk page."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class AuditFilterForm(forms.Form):
    action = forms.CharField(
        label=_("Action"),
        max_length=80,
        required=False,
        help_text=_("E.g. auth.sign_in, or auth. for every sign-in event."),
    )
    actor = forms.CharField(label=_("Actor e-mail contains"), max_length=254, required=False)

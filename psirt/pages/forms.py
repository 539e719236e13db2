"""Desk forms for the organization profile and the public pages. Saving goes through `psirt.pages.services`."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.validators import MaxLengthValidator
from django.utils.translation import gettext_lazy as _

from psirt.lib.business_days import supported_countries
from psirt.lib.forms import HttpURLField
from psirt.lib.pgp import KeyProblem, check_public_key
from psirt.organization.models import OrganizationProfile
from psirt.organization.services import ORG_FIELDS
from psirt.pages.models import Page
from psirt.pages.queries import PLACEHOLDERS

# A page is a few screens of text; anything longer is a paste gone wrong.
MAX_PAGE_CHARS = 50_000
# An armoured public key with several subkeys and signatures stays well below this.
MAX_KEY_CHARS = 64 * 1024


class OrganizationForm(forms.ModelForm):
    website = HttpURLField(label=_("Vendor website"), required=False, max_length=200)
    calendar_country = forms.ChoiceField(
        label=_("Calendar country"),
        help_text=_("Public holidays and make-up working days of this country count for business-day deadlines."),
    )

    class Meta:
        model = OrganizationProfile
        # Exactly the fields the profile service accepts, in the model's order.
        fields = [field.name for field in OrganizationProfile._meta.get_fields() if field.name in ORG_FIELDS]
        widgets = {"pgp_public_key": forms.Textarea(attrs={"rows": 8, "class": "mono", "spellcheck": "false"})}
        help_texts = {
            "footer_en": _("Shown at the bottom of every public page, e.g. a registration (ICP) number."),
            "pgp_public_key": _(
                "The ASCII-armoured public key reporters encrypt to (-----BEGIN PGP PUBLIC KEY BLOCK-----)."
            ),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        country: Any = self.fields["calendar_country"]
        country.choices = [(code, code) for code in supported_countries()]
        self.fields["eu_reporting_basis"].required = False
        self.fields["pgp_public_key"].validators.append(MaxLengthValidator(MAX_KEY_CHARS))
        self.fields["ack_business_days"].validators.append(_range(1, 60, _("Use between 1 and 60 business days.")))
        self.fields["remediation_days"].validators.append(_range(1, 730, _("Use between 1 and 730 days.")))
        self.fields["ack_business_days"].widget.attrs.update({"min": "1", "max": "60"})
        self.fields["remediation_days"].widget.attrs.update({"min": "1", "max": "730"})

    def clean_eu_member_state(self) -> str:
        return str(self.cleaned_data.get("eu_member_state", "")).strip().upper()

    def clean_eu_reporting_basis(self) -> str:
        # Left out of a form (an older client, a script): the main establishment, the rule's first choice.
        return str(self.cleaned_data.get("eu_reporting_basis") or "main_establishment")

    def clean_advisory_prefix(self) -> str:
        return str(self.cleaned_data.get("advisory_prefix", "")).strip().upper()

    def clean_pgp_public_key(self) -> str:
        value = str(self.cleaned_data.get("pgp_public_key", "")).strip()
        if not value:
            return ""
        try:
            check_public_key(value)
        except KeyProblem as exc:
            raise forms.ValidationError(str(exc.message)) from None
        return value.replace("\r\n", "\n") + "\n"


def _range(low: int, high: int, message: Any) -> Any:
    def check(value: int) -> None:
        if value is not None and not low <= value <= high:
            raise forms.ValidationError(message)

    return check


class PageForm(forms.ModelForm):
    class Meta:
        model = Page
        fields = ["title_en", "body_en", "title_zh", "body_zh"]
        widgets = {
            "body_en": forms.Textarea(attrs={"rows": 18}),
            "body_zh": forms.Textarea(attrs={"rows": 18, "lang": "zh-Hans"}),
            "title_zh": forms.TextInput(attrs={"lang": "zh-Hans"}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        placeholders = " ".join(PLACEHOLDERS)
        for name in ("body_en", "body_zh"):
            field = self.fields[name]
            field.validators.append(MaxLengthValidator(MAX_PAGE_CHARS))
            field.widget.attrs["maxlength"] = str(MAX_PAGE_CHARS)
            field.help_text = _(
                "Markdown: ## heading, **bold**, [link](https://…), lists, tables. HTML is shown as text. "
                "These placeholders are filled from the organization profile: %(placeholders)s"
            ) % {"placeholders": placeholders}

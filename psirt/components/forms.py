"""Input of the components desk: an SBOM upload and a VEX decision for several releases. Parsing and bounds only;
the rules are in `psirt.components.services`."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from psirt.components.models import Justification, VexStatus
from psirt.components.sbom import MAX_SBOM_BYTES


class SbomUploadForm(forms.Form):
    file = forms.FileField(
        label=_("SBOM file"),
        help_text=_("CycloneDX 1.4–1.6 JSON or SPDX 2.3 JSON, at most 32 MB."),
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_SBOM_BYTES:
            raise forms.ValidationError(_("The file is larger than 32 MB."))
        return upload


class DecisionForm(forms.Form):
    releases = forms.MultipleChoiceField(label=_("Releases"), widget=forms.CheckboxSelectMultiple, choices=())
    status = forms.ChoiceField(label=_("VEX status"), choices=VexStatus.choices)
    justification = forms.ChoiceField(
        label=_("Justification (not affected)"), choices=[("", "—"), *Justification.choices], required=False
    )
    impact_statement = forms.CharField(
        label=_("Impact statement (not affected)"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=4000,
    )
    impact_statement_zh = forms.CharField(
        label=_("Impact statement in Chinese (optional)"),
        widget=forms.Textarea(attrs={"rows": 3, "lang": "zh-Hans"}),
        required=False,
        max_length=4000,
    )
    action_statement = forms.CharField(
        label=_("Action statement (affected)"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=4000,
    )
    action_statement_zh = forms.CharField(
        label=_("Action statement in Chinese (optional)"),
        widget=forms.Textarea(attrs={"rows": 3, "lang": "zh-Hans"}),
        required=False,
        max_length=4000,
    )
    case_key = forms.CharField(label=_("Linked case (key)"), required=False, max_length=20)
    open_case = forms.BooleanField(
        label=_("Affected: open a new case for the fix"),
        help_text=_(
            "Instead of linking a case: a new case named after the vulnerability and its components, with "
            "the chosen releases as affected ranges."
        ),
        required=False,
    )
    maintainer_notified_at = forms.DateField(
        label=_("Component maintainer notified on (CRA Art. 13(6))"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    maintainer_notice = forms.CharField(label=_("How and whom"), required=False, max_length=500)

    def __init__(self, *args: Any, release_choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["releases"].choices = release_choices  # type: ignore[attr-defined]

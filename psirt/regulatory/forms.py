"""Parsing and bounding what leads and handlers type on the regulatory desk; the services decide."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from psirt.regulatory.models import FilingKind

UTC_INPUT_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"]


class UtcDateTimeField(forms.DateTimeField):
    """A date and time typed in UTC (regulatory clocks are UTC; the label says so)."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(input_formats=UTC_INPUT_FORMATS, **kwargs)

    def prepare_value(self, value: Any) -> Any:
        # Shown in UTC, as the label says (Django would show the server's local time).
        if isinstance(value, dt.datetime) and value.tzinfo is not None:
            return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M")
        return value

    def to_python(self, value: Any) -> dt.datetime | None:
        if value in self.empty_values:
            return None
        if isinstance(value, str) and len(value) > 40:
            raise forms.ValidationError(_("Enter a date and time as YYYY-MM-DD HH:MM (UTC)."))
        for fmt in UTC_INPUT_FORMATS:
            try:
                return dt.datetime.strptime(str(value).strip(), fmt).replace(tzinfo=dt.UTC)
            except ValueError:
                continue
        raise forms.ValidationError(_("Enter a date and time as YYYY-MM-DD HH:MM (UTC)."))


class DecisionForm(forms.Form):
    reportable = forms.TypedChoiceField(
        label=_("Decision"),
        choices=[("yes", _("Reportable under Art. 14")), ("no", _("Not reportable"))],
        coerce=lambda v: v == "yes",
        widget=forms.RadioSelect,
    )
    evidence = forms.CharField(
        label=_("Evidence of malicious exploitation"),
        required=False,
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    reason = forms.CharField(
        label=_("Why it is not reportable"),
        required=False,
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("For example: exploited only by the reporter in a lab, no sign of malicious use."),
    )


class IncidentForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    aware_at = UtcDateTimeField(label=_("Became aware (UTC)"))
    evidence = forms.CharField(
        label=_("What happened"), required=False, max_length=20_000, widget=forms.Textarea(attrs={"rows": 3})
    )


class MeasureForm(forms.Form):
    measure_available_at = UtcDateTimeField(label=_("Measure available since (UTC)"), required=False)


class SubmitForm(forms.Form):
    reference = forms.CharField(label=_("Platform reference number"), required=False, max_length=120)
    submitted_at = UtcDateTimeField(label=_("Submitted at (UTC)"), required=False)


class EntryForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Record"),
        choices=[
            (FilingKind.CSIRT_REQUEST, _("CSIRT request")),
            (FilingKind.CSIRT_ANSWER, _("Answer to the CSIRT")),
            (FilingKind.USERS_INFORMED, _("Users informed (Art. 14(8))")),
            (FilingKind.SUPPLIER_NOTICE, _("Upstream supplier notified")),
        ],
    )
    note = forms.CharField(
        label=_("What was asked, answered or sent, and how"),
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    reference = forms.CharField(label=_("Reference"), required=False, max_length=120)
    due_at = UtcDateTimeField(label=_("Due (UTC), for a CSIRT request"), required=False)
    answers = forms.UUIDField(label=_("Request answered"), required=False)


class DirectNoticeForm(forms.Form):
    """The direct notice to known customers, in both languages (each contact reads the one of their language)."""

    subject_en = forms.CharField(label=_("Subject (English)"), max_length=200)
    subject_zh = forms.CharField(label=_("Subject (Chinese)"), max_length=200)
    body_en = forms.CharField(label=_("Text (English)"), max_length=20_000, widget=forms.Textarea(attrs={"rows": 9}))
    body_zh = forms.CharField(label=_("Text (Chinese)"), max_length=20_000, widget=forms.Textarea(attrs={"rows": 9}))

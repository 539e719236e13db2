"""Forms of the case page. They only parse and bound input; the services decide and refuse.

Every form is bounded (lengths, choices) so hostile input gets a field message, never a stack trace.
"""

from __future__ import annotations

import datetime as dt
import html
from typing import Any, cast

from django import forms
from django.forms.utils import flatatt
from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from psirt.cases.models import Exploitation, MitigationKind
from psirt.cases.queries import ReleaseChoice
from psirt.cases.services import workflow
from psirt.cases.services.cases import MAX_REASON, MAX_TITLE
from psirt.cases.services.deadlines import MAX_DAYS
from psirt.cases.services.workflow import CaseState
from psirt.lib.cvss import MAX_VECTOR_LENGTH, build_vector, normalise_vector
from psirt.lib.cvss_metrics import Metric, metric_groups
from psirt.lib.severity import Severity
from psirt.organization.models import CalendarDayKind


class FastSelect(forms.Select):
    """A <select> rendered in Python instead of one template per option.

    The case page has ~60 selects (two CVSS calculators, releases, people) with ~1,000 options; Django's
    per-option templates made that page cost ~150 ms to render. Same markup, attributes and escaping."""

    def render(self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None) -> SafeString:
        final = {"name": name, **self.build_attrs(self.attrs, attrs)}
        if self.allow_multiple_selected:
            final["multiple"] = True
        chosen = {str(v) for v in self.format_value(value)}

        def options(items: Any) -> str:
            # Every value and label is escaped here (html.escape with quotes): plain string building is
            # several times faster than format_html per option.
            return "".join(
                f'<option value="{_esc(code)}"{" selected" if str(code) in chosen else ""}>{_esc(label)}</option>'
                for code, label in items
            )

        parts: list[str] = []
        for group, items in self.choices:
            if isinstance(items, list | tuple):
                parts.append(f'<optgroup label="{_esc(group)}">{options(items)}</optgroup>')
            else:
                parts.append(options([(group, items)]))
        return SafeString(f"<select{flatatt(final)}>{''.join(parts)}</select>")


def _esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


class FastSelectMultiple(FastSelect):
    allow_multiple_selected = True

    def value_from_datadict(self, data: Any, files: Any, name: str) -> Any:
        return forms.SelectMultiple().value_from_datadict(data, files, name)

    def value_omitted_from_data(self, data: Any, files: Any, name: str) -> bool:
        return False


class DeskForm(forms.Form):
    """Base of the case desk's forms: every plain <select> renders with `FastSelect`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            old = field.widget
            if type(old) in (forms.Select, forms.SelectMultiple):
                multiple = old.allow_multiple_selected
                new = FastSelectMultiple(attrs=old.attrs) if multiple else FastSelect(attrs=old.attrs)
                new.choices = old.choices
                new.is_required = old.is_required
                field.widget = new


def _zh() -> bool:
    return (get_language() or "en").lower().startswith("zh")


def metric_label(metric: Metric) -> str:
    name = metric.name_zh if _zh() and metric.name_zh else metric.name_en
    return f"{name} ({metric.key})"


class TransitionForm(DeskForm):
    """Move the case: only the states the workflow allows from the current one are offered."""

    to_state = forms.ChoiceField(label=_("Next step"))
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        max_length=MAX_REASON,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Needed to close without a fix, to go back, or to reopen."),
    )
    duplicate_of = forms.CharField(
        label=_("Duplicate of (case number)"),
        required=False,
        max_length=40,
        help_text=_("Only when marking this case as a duplicate, e.g. CASE-2026-0012."),
    )

    def __init__(self, *args: Any, state: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        order = [*workflow.MAIN_PATH, *(s for s in CaseState.values if s not in workflow.MAIN_PATH)]
        allowed = workflow.allowed_targets(state)
        cast(forms.ChoiceField, self.fields["to_state"]).choices = [
            (s, _("Reopen (back to triage)") if workflow.is_reopening(state, s) else CaseState(s).label)
            for s in order
            if s in allowed
        ]


class PersonForm(DeskForm):
    """Pick one person from the offered list (handlers/leads to assign, engineers to invite).

    The field is a text box tied to a <datalist> of the offered people ("Name <e-mail>"), so the browser
    filters the list as one types, without any script. What was typed must name exactly one offered person:
    the whole suggestion, the e-mail address, a name only one of them has, or the person's public id.
    `cleaned_data["user"]` is that person's public id."""

    user = forms.CharField(label=_("Person"), max_length=400, strip=True)

    def __init__(
        self, *args: Any, people: list[Any], label: Any = None, list_id: str = "people", **kwargs: Any
    ) -> None:
        # Two of these forms share the case page: distinct element ids, same field name.
        kwargs.setdefault("auto_id", f"id_{list_id}_%s")
        super().__init__(*args, **kwargs)
        self.people = people
        self.list_id = list_id
        self.fields["user"].widget.attrs.update(
            {"list": list_id, "autocomplete": "off", "spellcheck": "false", "placeholder": _("Type a name or e-mail")}
        )
        if label is not None:
            self.fields["user"].label = label

    @staticmethod
    def suggestion(person: Any) -> str:
        return f"{person} <{person.email}>"

    def suggestions(self) -> list[str]:
        return [self.suggestion(p) for p in self.people]

    def clean_user(self) -> str:
        typed = " ".join(str(self.cleaned_data.get("user") or "").split())
        folded = typed.casefold()
        for test in (
            lambda p: self.suggestion(p).casefold() == folded,
            lambda p: str(p.public_id) == typed,
            lambda p: p.email.casefold() == folded,
            lambda p: str(p).casefold() == folded,
        ):
            found = [p for p in self.people if test(p)]
            if len(found) == 1:
                return str(found[0].public_id)
            if len(found) > 1:
                raise forms.ValidationError(_("Several people match; pick one from the list."))
        raise forms.ValidationError(_("Pick a person from the list."))


class CvssForm(DeskForm):
    """One CVSS calculator (v3.1 or v4.0): a choice per metric, named in words, plus the vector as text.

    `shown_vector` is the vector the form was rendered with: if the submitted text differs from it, the
    person edited the text and it wins; otherwise the metric choices build the vector.
    """

    vector = forms.CharField(
        label=_("Vector"),
        required=False,
        max_length=MAX_VECTOR_LENGTH,
        widget=forms.TextInput(attrs={"class": "mono", "spellcheck": "false"}),
        help_text=_("Edit the vector as text, or choose the metrics below; an edited vector wins."),
    )
    shown_vector = forms.CharField(required=False, max_length=MAX_VECTOR_LENGTH, widget=forms.HiddenInput)

    def __init__(self, *args: Any, version: str, current: dict[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.version = version
        self.prefix = "v31" if version == "3.1" else "v40"
        current = current or {}
        self.groups: list[tuple[str, list[str]]] = []
        for group in metric_groups(version):
            names = []
            for metric in group.metrics:
                name = f"m_{metric.key}"
                choices = [
                    (v.code, f"{v.name_zh if _zh() and v.name_zh else v.name_en} ({v.code})") for v in metric.values
                ]
                if metric.mandatory:
                    choices = [("", "—"), *choices]
                self.fields[name] = forms.ChoiceField(
                    label=metric_label(metric),
                    choices=choices,
                    widget=FastSelect,
                    required=False,
                    initial=current.get(metric.key, "" if metric.mandatory else "X"),
                )
                names.append(name)
            self.groups.append((group.name_zh if _zh() else group.name_en, names))

    def metric_values(self) -> dict[str, str]:
        data = self.cleaned_data
        return {name[2:]: data.get(name) or "" for name in self.fields if name.startswith("m_")}

    def grouped(self) -> list[tuple[str, list[forms.BoundField]]]:
        return [(title, [self[n] for n in names]) for title, names in self.groups]

    def submitted_vector(self) -> str:
        """The vector this valid form asks for, normalised: the typed text when it differs from the vector the
        form was shown with, else the one the metric choices build. CvssError when it is not a valid vector."""
        typed = (self.cleaned_data["vector"] or "").strip()
        shown = (self.cleaned_data["shown_vector"] or "").strip()
        # A valid vector of the other version typed here is taken as it is (it is stored by its prefix).
        return normalise_vector(typed) if typed and typed != shown else build_vector(self.version, self.metric_values())


class CweForm(DeskForm):
    cwe = forms.CharField(
        label=_("Weakness (CWE)"),
        required=False,
        max_length=300,
        widget=forms.TextInput(attrs={"list": "cwe-list", "autocomplete": "off"}),
        help_text=_("A number (CWE-79 or 79) or words of the name; leave empty to clear."),
    )


class ExploitationForm(DeskForm):
    status = forms.ChoiceField(label=_("Exploitation"), choices=Exploitation.choices)
    aware_at = forms.DateTimeField(
        label=_("Team aware since"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"],
        help_text=_("Local time; empty means now. Never in the future."),
    )

    def clean_aware_at(self) -> dt.datetime | None:
        value: dt.datetime | None = self.cleaned_data.get("aware_at")
        if value is not None and not 1990 <= value.year <= 2200:
            raise forms.ValidationError(_("Enter a real date and time."))
        if value is not None and timezone.is_naive(value):
            value = timezone.make_aware(value)
        return value


class ReferenceForm(DeskForm):
    value = forms.CharField(
        label=_("Reference"),
        max_length=2000,
        help_text=_(
            "CVE-2026-12345, CNVD-2026-12345, CNNVD-202601-1234, EUVD-2026-12345, or an https:// link to an advisory."
        ),
    )


class DisclosureForm(DeskForm):
    date = forms.DateField(
        label=_("Agreed disclosure date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("Leave empty to clear. The reporter sees it in their portal."),
    )

    def clean_date(self) -> dt.date | None:
        value: dt.date | None = self.cleaned_data.get("date")
        if value is not None and not 2000 <= value.year <= 2200:
            raise forms.ValidationError(_("Enter a real date."))
        return value


class OpenCaseForm(DeskForm):
    title = forms.CharField(label=_("Case title"), max_length=MAX_TITLE)
    assignees = forms.MultipleChoiceField(label=_("Assign to"), required=False)

    def __init__(self, *args: Any, people: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["assignees"]).choices = [
            (str(p.public_id), f"{p} <{p.email}>") for p in people
        ]


class AttachForm(DeskForm):
    case = forms.CharField(
        label=_("Existing case"),
        max_length=40,
        widget=forms.TextInput(attrs={"list": "case-suggestions", "autocomplete": "off"}),
        help_text=_("The case number, e.g. CASE-2026-0012, or pick a suggestion."),
    )


class MessageForm(DeskForm):
    """A message to one of the case's reporters, or an internal note on one of its reports."""

    report = forms.ChoiceField(label=_("Report"))
    body = forms.CharField(
        label=_("Message"),
        max_length=50_000,
        widget=forms.Textarea(attrs={"rows": 8}),
    )

    def __init__(self, *args: Any, reports: list[Any], note: bool = False, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "note" if note else "msg")
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["report"]).choices = [
            (str(r.public_id), f"{r.tracking_id} ({'中文' if r.language.startswith('zh') else 'English'})")
            for r in reports
        ]
        if note:
            self.fields["body"].label = _("Internal note")
            self.fields["body"].help_text = _("Seen by the team only; never shown or sent to the reporter.")
        else:
            self.fields["body"].help_text = _(
                "E-mailed to the reporter (the text itself only when it can be encrypted to their key) "
                "and shown in their portal."
            )


class RangeForm(DeskForm):
    """An affected range: a product (and variant) with its first affected and fixing releases."""

    product = forms.ChoiceField(label=_("Product"))
    variant = forms.CharField(
        label=_("Variant"), required=False, max_length=100, help_text=_("Empty for the standard build.")
    )
    introduced = forms.ChoiceField(
        label=_("Introduced in"), required=False, help_text=_("Empty: every earlier release is affected.")
    )
    fixed = forms.ChoiceField(label=_("Fixed in"), required=False, help_text=_("Empty: no fix yet."))

    def __init__(
        self,
        *args: Any,
        products: list[tuple[str, str]],
        releases: list[ReleaseChoice],
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("prefix", "range")
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["product"]).choices = [("", "—"), *products]
        groups: dict[str, list[tuple[str, str]]] = {}
        for release in releases:
            groups.setdefault(release.product_name, []).append((release.public_id, release_label(release)))
        choices: list[Any] = [("", "—"), *groups.items()]
        cast(forms.ChoiceField, self.fields["introduced"]).choices = choices
        cast(forms.ChoiceField, self.fields["fixed"]).choices = choices


def release_label(release: ReleaseChoice) -> str:
    """A release as the pickers show it: version, build (variant) and release date."""
    parts = [release.version, release.variant or str(_("standard build"))]
    if release.release_date:
        parts.append(release.release_date.isoformat())
    return " · ".join(parts)


class MitigationForm(DeskForm):
    kind = forms.ChoiceField(label=_("Kind"), choices=MitigationKind.choices)
    text_en = forms.CharField(label=_("Text (English)"), max_length=10_000, widget=forms.Textarea(attrs={"rows": 3}))
    text_zh = forms.CharField(
        label=_("Text (Chinese)"), required=False, max_length=10_000, widget=forms.Textarea(attrs={"rows": 3})
    )
    sufficient = forms.BooleanField(
        label=_("Fully protects customers"),
        required=False,
        help_text=_("Tick only if applying it removes the risk (an advisory may then go out before a fix)."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "mit")
        super().__init__(*args, **kwargs)


class WorkItemForm(DeskForm):
    title = forms.CharField(label=_("Task"), max_length=200)
    owner = forms.ChoiceField(label=_("Owner"), required=False)
    due_date = forms.DateField(
        label=_("Due"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )

    def __init__(self, *args: Any, people: list[Any], **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "work")
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["owner"]).choices = [("", "—")] + [
            (str(p.public_id), f"{p} <{p.email}>") for p in people
        ]

    def clean_due_date(self) -> dt.date | None:
        value: dt.date | None = self.cleaned_data.get("due_date")
        if value is not None and not 2000 <= value.year <= 2200:
            raise forms.ValidationError(_("Enter a real date."))
        return value


class PolicyForm(forms.Form):
    """One number of days per severity; empty means the organization's default."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for severity, label in Severity.choices:
            self.fields[f"days_{severity}"] = forms.IntegerField(
                label=label, required=False, min_value=1, max_value=MAX_DAYS
            )


class DayForm(forms.Form):
    """An extra day off or a (make-up) working day of the leads' calendar."""

    date = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    kind = forms.ChoiceField(label=_("Kind"), choices=CalendarDayKind.choices)
    note = forms.CharField(label=_("Note"), required=False, max_length=200)

    def clean_date(self) -> dt.date:
        value: dt.date = self.cleaned_data["date"]
        if not 1990 <= value.year <= 2200:
            raise forms.ValidationError(_("Enter a real date."))
        return value

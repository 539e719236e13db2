"""Desk forms for authoring advisories. Saving goes through `psirt.advisories.services` (which validates again:
the forms give field-level messages, the service is the rule)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from psirt.advisories.models import Advisory, Exploitation, RequiredRemedy
from psirt.advisories.queries import normalise_version
from psirt.advisories.services import MAX_SUMMARY, MAX_TEXT, MAX_TRIGGER, MAX_TRIGGERS, AffectedInput
from psirt.catalog.models import FirmwareRelease, Product
from psirt.lib.severity import MinimumSeverity


def _text(label: Any, *, rows: int = 4, help_text: Any = "") -> forms.CharField:
    return forms.CharField(
        label=label,
        required=False,
        max_length=MAX_TEXT,
        help_text=help_text,
        widget=forms.Textarea(attrs={"rows": rows}),
    )


MARKDOWN_HELP = _("Markdown: **bold**, lists, links. HTML is shown as text.")


class AdvisoryForm(forms.Form):
    """Texts, scores and identifiers of an advisory; English required, Chinese optional."""

    title_en = forms.CharField(label=_("Title (English)"), max_length=200)
    title_zh = forms.CharField(label=_("Title (Chinese)"), max_length=200, required=False)
    summary_en = _text(_("Summary (English)"), rows=3, help_text=MARKDOWN_HELP)
    summary_zh = _text(_("Summary (Chinese)"), rows=3)
    description_en = _text(_("Description (English)"), rows=8, help_text=MARKDOWN_HELP)
    description_zh = _text(_("Description (Chinese)"), rows=8)
    impact_en = _text(_("Impact (English)"))
    impact_zh = _text(_("Impact (Chinese)"))
    workarounds_en = _text(_("Workarounds and mitigations (English)"))
    workarounds_zh = _text(_("Workarounds and mitigations (Chinese)"))
    mitigation_sufficient = forms.BooleanField(
        label=_("The workarounds are a sufficient mitigation"),
        required=False,
        help_text=_("Customers can remove the risk with the workarounds alone, without a firmware update."),
    )
    actions_en = _text(
        _("What to do first (English)"),
        rows=3,
        help_text=_("Optional. Without it the page tells customers which release to install."),
    )
    actions_zh = _text(_("What to do first (Chinese)"), rows=3)
    cvss31_vector = forms.CharField(
        label=_("CVSS v3.1 vector"), max_length=300, required=False, widget=forms.TextInput(attrs={"class": "mono"})
    )
    cvss40_vector = forms.CharField(
        label=_("CVSS v4.0 vector"), max_length=300, required=False, widget=forms.TextInput(attrs={"class": "mono"})
    )
    cwe_id = forms.CharField(label=_("CWE"), max_length=20, required=False, help_text=_("e.g. CWE-79"))
    exploitation = forms.ChoiceField(label=_("Exploitation"), choices=Exploitation.choices)
    public_concern = forms.BooleanField(label=_("Of public concern"), required=False)
    identifiers = forms.CharField(
        label=_("CVE, CNVD, CNNVD and EUVD IDs"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3, "class": "mono"}),
        help_text=_("One per line."),
    )
    reference_urls = forms.CharField(
        label=_("References"),
        required=False,
        max_length=50_000,
        widget=forms.Textarea(attrs={"rows": 3, "class": "mono"}),
        help_text=_("Web addresses of third-party advisories, one per line."),
    )
    credits_en = _text(_("Acknowledgments (English)"), rows=3, help_text=_("One credit per line: name, organization."))
    credits_zh = _text(_("Acknowledgments (Chinese)"), rows=3)
    revision_summary_en = forms.CharField(
        label=_("What changed (English)"),
        max_length=MAX_SUMMARY,
        required=False,
        help_text=_("Required for a published advisory: shown in its revision history once the revision is published."),
    )
    revision_summary_zh = forms.CharField(label=_("What changed (Chinese)"), max_length=MAX_SUMMARY, required=False)
    notify = forms.BooleanField(
        label=_("Tell subscribers when this revision is published"),
        required=False,
        help_text=_("For changes customers must act on (a new fix, a wider range); not for typo fixes."),
    )

    FIELDS = (
        *("title_en", "title_zh", "summary_en", "summary_zh", "description_en", "description_zh"),
        *("impact_en", "impact_zh", "workarounds_en", "workarounds_zh", "mitigation_sufficient"),
        *("actions_en", "actions_zh", "cvss31_vector", "cvss40_vector", "cwe_id", "exploitation"),
        *("public_concern", "identifiers", "reference_urls", "credits_en", "credits_zh"),
    )

    def __init__(self, *args: Any, locked: Iterable[str] = (), **kwargs: Any) -> None:
        """`locked`: the facts shown read-only because they come from the cases (and are not overridden)."""
        super().__init__(*args, **kwargs)
        self.locked = {name for name in locked if name in self.fields}
        for name in self.locked:
            self.fields[name].disabled = True
            self.fields[name].help_text = _("From the case. To differ from it, record an override with a reason.")

    @classmethod
    def initial_for(cls, advisory: Advisory) -> dict[str, Any]:
        initial = {name: getattr(advisory, name) for name in cls.FIELDS}
        initial["cwe_id"] = f"CWE-{advisory.cwe_id}" if advisory.cwe_id else ""
        return initial

    def changes(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.FIELDS if name not in self.locked}


class AffectedForm(forms.Form):
    """One row of the affected table: product, variant, first affected and fixing version (as in the catalog)."""

    product = forms.ChoiceField(label=_("Product"), required=False)
    variant = forms.CharField(label=_("Variant"), max_length=100, required=False)
    introduced = forms.CharField(
        label=_("First affected version"), max_length=100, required=False, help_text=_("Empty: every earlier one.")
    )
    fixed = forms.CharField(label=_("Fixed in"), max_length=100, required=False, help_text=_("Empty: no fix yet."))

    def __init__(self, *args: Any, products: list[tuple[str, str]] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        product_field = self.fields["product"]
        assert isinstance(product_field, forms.ChoiceField)
        product_field.choices = [("", "—"), *(products or [])]

    def _release(self, product: Product, variant: str, version: str, field: str) -> FirmwareRelease | None:
        if not version:
            return None
        wanted = normalise_version(version)
        for release in product.releases.filter(variant=variant):
            if normalise_version(release.version) == wanted:
                return release
        self.add_error(
            field,
            _("%(product)s has no release %(version)s%(variant)s in the catalog; add it there first.")
            % {"product": product.name, "version": version, "variant": f" ({variant})" if variant else ""},
        )
        return None

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        slug = data.get("product")
        if not slug:
            if data.get("introduced") or data.get("fixed"):
                self.add_error("product", _("Choose the product these versions belong to."))
            return data
        product = Product.objects.filter(slug=slug).first()
        if product is None:
            self.add_error("product", _("Choose a product from the list."))
            return data
        variant = (data.get("variant") or "").strip()
        data["row"] = AffectedInput(
            product=product,
            variant=variant,
            introduced=self._release(product, variant, (data.get("introduced") or "").strip(), "introduced"),
            fixed=self._release(product, variant, (data.get("fixed") or "").strip(), "fixed"),
        )
        return data


AffectedFormSet = forms.formset_factory(AffectedForm, extra=2, max_num=200, absolute_max=200, can_delete=True)


def product_options() -> list[tuple[str, str]]:
    return [(p.slug, p.name) for p in Product.objects.order_by("name").only("slug", "name")]


def affected_initial(advisory: Advisory, rows: list[AffectedInput] | None = None) -> list[dict[str, str]]:
    """The affected table's form rows: `rows` (an open revision's table) or the advisory's own."""
    if rows is None:
        rows = [
            AffectedInput(product=row.product, variant=row.variant, introduced=row.introduced, fixed=row.fixed)
            for row in advisory.affected.select_related("product", "introduced", "fixed")
        ]
    return [
        {
            "product": row.product.slug,
            "variant": row.variant,
            "introduced": row.introduced.version if row.introduced else "",
            "fixed": row.fixed.version if row.fixed else "",
        }
        for row in rows
    ]


class PublicationPolicyForm(forms.Form):
    """The settings of the publication policy; saving writes the next version (`set_publication_policy`)."""

    minimum_severity = forms.ChoiceField(
        label=_("Minimum severity of a normal advisory"), choices=MinimumSeverity.choices
    )
    required_remedy = forms.ChoiceField(label=_("What must exist for every case"), choices=RequiredRemedy.choices)
    require_disclosure_date = forms.BooleanField(label=_("The agreed disclosure date must have come"), required=False)
    expedite_when_exploited = forms.BooleanField(label=_("Expedite when actively exploited"), required=False)
    expedite_when_public_concern = forms.BooleanField(label=_("Expedite when of public concern"), required=False)
    expedite_other_triggers = forms.CharField(
        label=_("Other reasons to expedite"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=MAX_TRIGGERS * (MAX_TRIGGER + 1),
        help_text=_("One per line; the approving lead judges them from the written justification."),
    )
    expedite_requires_fix = forms.BooleanField(label=_("An expedited advisory needs a fix"), required=False)
    four_eyes = forms.BooleanField(
        label=_("Four eyes: a lead does not approve their own advisory or expedite justification"),
        required=False,
        help_text=_("Applies while the team has two or more active leads."),
    )

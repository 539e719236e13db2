"""The report form — the one validator of the web form and the API — and the small portal forms."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from psirt.catalog.models import FirmwareRelease, Product
from psirt.intake.models import PublishPlan, YesNoUnknown
from psirt.intake.services import TEXT_LIMITS, IncomingFile, ReportInput, max_file_bytes, max_total_bytes
from psirt.lib import pgp
from psirt.lib.forms import LazyBoundField, share_fields

OTHER = "other"
PHONE_RE = re.compile(r"^[0-9+()./\-\s]{3,50}(?:\s*(?:x|ext\.?)\s*[0-9]{1,6})?$", re.IGNORECASE)
# C0/C1 control characters other than tab and newlines have no place in typed text (a NUL breaks PostgreSQL).
CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
MAX_FILES = 20
SINGLE_LINE_FIELDS = ("reporter_name", "organization", "phone", "product_other", "version", "credit")
# Line breaks of every kind (CR, LF, vertical tab, form feed, NEL, Unicode line and paragraph separators).
LINE_BREAK_RE = re.compile(r"[\r\n\x0b\x0c\x85\u2028\u2029]")


def single_line_problem(value: str) -> str | None:
    """Why `value` cannot go in a one-line field (a name, an organization, a phone number, a credit), or None.

    One-line fields end up in mail headers, credits of published advisories and CSAF documents: a line break
    there could forge a header or a line of the advisory, and control characters have no place in them."""
    if LINE_BREAK_RE.search(value):
        return str(_("Write this on one line: line breaks are not allowed here."))
    if CONTROL_RE.search(value):
        return str(_("This text contains control characters; remove them."))
    return None


TOO_LONG = _(
    "This text is %(show_value)d characters long; the limit is %(limit_value)d. Shorten it, or put long "
    "material (logs, dumps) in an attached file."
)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input; validated one by one (size limits are checked in `clean_attachments`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        if not data:
            return []
        items = data if isinstance(data, list | tuple) else [data]
        return [super(MultipleFileField, self).clean(item, initial) for item in items if item]


class CatalogChoiceField(forms.ChoiceField):
    """Choices from the catalog, listed only when the form is rendered; the submitted value is checked
    against the database by the form's clean methods, so validating an API call does not load the whole
    catalog."""

    def valid_value(self, value: Any) -> bool:
        return True


def _text(limit_key: str, *, label: Any, required: bool = False, rows: int = 0, help_text: Any = "") -> forms.CharField:
    """A text field whose limit is checked on the server with a message, without an HTML maxlength on large
    areas (a browser would cut a long paste silently)."""
    limit = TEXT_LIMITS[limit_key]
    widget: forms.Widget = forms.Textarea(attrs={"rows": rows}) if rows else forms.TextInput()
    field = forms.CharField(
        label=label,
        required=required,
        max_length=limit,
        strip=False,
        widget=widget,
        help_text=help_text,
        error_messages={"max_length": TOO_LONG},
    )
    if rows:
        field.widget.attrs.pop("maxlength", None)
    return field


def product_choices() -> list[tuple[str, Any]]:
    """Public catalog products grouped by product line, then "other"."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for product in Product.objects.filter(is_public=True).select_related("line").order_by("line__position", "name"):
        groups.setdefault(product.line.name, []).append((product.slug, product.name))
    choices: list[tuple[str, Any]] = [("", _("— choose a product —"))]
    choices += list(groups.items())
    choices.append((OTHER, _("Other / not in the list")))
    return choices


def release_choices() -> list[tuple[str, Any]]:
    """Public releases grouped by product (newest first). The script narrows the list to the chosen product;
    without it, the optgroups say which product each version belongs to."""
    groups: dict[str, list[tuple[str, str]]] = {}
    releases = (
        FirmwareRelease.objects.filter(is_public=True, product__is_public=True)
        .select_related("product")
        .order_by("product__name", "variant", "-position")
    )
    for release in releases:
        label = release.version + (f" ({release.variant})" if release.variant else "")
        groups.setdefault(release.product.name, []).append((str(release.public_id), label))
    choices: list[tuple[str, Any]] = [("", _("— not in the list (type it below) —"))]
    choices += list(groups.items())
    return choices


def release_product_map() -> dict[str, str]:
    """release public id → product slug, for the script (data attributes) and validation."""
    return {
        str(public_id): slug
        for public_id, slug in FirmwareRelease.objects.filter(is_public=True, product__is_public=True).values_list(
            "public_id", "product__slug"
        )
    }


class ReportForm(forms.Form):
    """What a report must contain: who is reporting, the affected product, the vulnerability and how to reproduce
    it, and the reporter's consent to the disclosure guidelines."""

    # 1. Organization and contact
    reporter_name = _text("reporter_name", label=_("Your name"), required=True)
    reporter_email = forms.EmailField(
        label=_("E-mail"),
        max_length=TEXT_LIMITS["reporter_email"],
        help_text=_("We write to you here. It is never published."),
    )
    organization = _text("organization", label=_("Organization"))
    phone = _text("phone", label=_("Phone (optional)"))
    # 2. Reference information
    references = _text(
        "references",
        label=_("Reference information"),
        rows=3,
        help_text=_("CVE or CNVD/CNNVD IDs, related advisories, links — one per line."),
    )
    # 3. Affected product and version
    product = CatalogChoiceField(label=_("Affected product"), choices=())
    product_other = _text(
        "product_other", label=_("Product or solution (if not in the list)"), help_text=_("Model name or number.")
    )
    release = CatalogChoiceField(label=_("Firmware version"), choices=(), required=False)
    version = _text(
        "version",
        label=_("Firmware version (if not in the list)"),
        help_text=_("As shown on the device's system information page."),
    )
    # 4. Description
    description = _text(
        "description",
        label=_("Description of the vulnerability"),
        required=True,
        rows=8,
        help_text=_("What is wrong and what an attacker can do. You may paste a message encrypted to our OpenPGP key."),
    )
    # 5. Technical details
    technical_details = _text(
        "technical_details",
        label=_("Technical details"),
        rows=10,
        help_text=_(
            "System configuration; how you located the problem; how it is exploited; steps to reproduce. "
            "Attach captures (.pcap/.pcapng), proof of concept and screenshots below."
        ),
    )
    # 6. Public exploit information
    exploit_public = forms.ChoiceField(
        label=_("Is an exploit publicly known?"),
        choices=YesNoUnknown.choices,
        initial=YesNoUnknown.UNKNOWN,
        required=False,
        widget=forms.RadioSelect,
    )
    public_exploit = _text(
        "public_exploit",
        label=_("Public exploit information"),
        rows=3,
        help_text=_("Where it is published, links, whether it is being used in attacks."),
    )
    # 7. Disclosure plans
    plans_to_publish = forms.ChoiceField(
        label=_("Do you plan to publish this vulnerability?"),
        choices=PublishPlan.choices,
        initial=PublishPlan.UNDECIDED,
        required=False,
        widget=forms.RadioSelect,
    )
    disclosure_plans = _text(
        "disclosure_plans",
        label=_("Disclosure plans"),
        rows=3,
        help_text=_("Talk, paper, blog post — and any deadline you have."),
    )
    proposed_disclosure_date = forms.DateField(
        label=_("Proposed disclosure date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("YYYY-MM-DD. We agree the final date with you."),
    )
    # Credit
    credit = _text(
        "credit", label=_("Name to credit"), help_text=_("As it should appear in the advisory; empty = your name.")
    )
    credit_anonymous = forms.BooleanField(label=_("Do not credit me publicly"), required=False)
    pgp_key = _text(
        "pgp_key",
        label=_("Your OpenPGP public key (optional)"),
        rows=4,
        help_text=_("We then encrypt every mail to you."),
    )
    attachments = MultipleFileField(label=_("Attachments"), required=False)
    accept_guidelines = forms.BooleanField(
        label=_("I have read and accept the reporting guidelines."),
        error_messages={"required": _("Please read and accept the reporting guidelines to send your report.")},
    )
    # Honeypot: hidden from people (the template wraps it in `hidden`); bots fill every field.
    website = forms.CharField(label=_("Leave this field empty"), required=False)

    # Every report is validated, few forms are shown: a field's names, label and help text are read when shown.
    bound_field_class = LazyBoundField

    def __init__(
        self,
        *args: Any,
        stashed_size: int = 0,
        found: tuple[Product | None, FirmwareRelease | None] = (None, None),
        **kwargs: Any,
    ) -> None:
        """`found`: the public product and release the caller has just looked up for the values it puts in
        `data` (the API maps a product's slug and a version to them): the checks use them instead of reading
        them again."""
        # The fields are the class's, shared by every instance (set up once below): never change them here.
        super().__init__(*args, **kwargs)
        self.stashed_size = stashed_size
        self._found_product, self._found_release = found
        self._product: Product | None = None
        self._release: FirmwareRelease | None = None
        self.pgp_key_info: pgp.PublicKeyInfo | None = None

    # -- field checks

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        # One-line fields: no line breaks, no control characters (`single_line_problem`). Large text areas keep
        # them (pasted terminal output has escape codes); they are stored inert and shown escaped.
        for name in SINGLE_LINE_FIELDS:
            value = cleaned.get(name)
            problem = single_line_problem(value) if isinstance(value, str) else None
            if problem is not None:
                self.add_error(name, problem)
        product = cleaned.get("product")
        if product == OTHER and not (cleaned.get("product_other") or "").strip():
            self.add_error("product_other", _("Name the product, since it is not in the list."))
        release_id = cleaned.get("release")
        if release_id:
            if product == OTHER or self._product is None:
                self.add_error("release", _("Choose a product from the list first, or type the version below."))
            else:
                try:
                    release_uuid = uuid.UUID(str(release_id))
                except ValueError:
                    release_uuid = None
                found = self._found_release
                if found is not None and found.public_id == release_uuid and found.product_id == self._product.pk:
                    release: FirmwareRelease | None = found
                else:
                    release = (
                        FirmwareRelease.objects.filter(
                            public_id=release_uuid, product=self._product, is_public=True
                        ).first()
                        if release_uuid
                        else None
                    )
                if release is None:
                    self.add_error("release", _("This firmware version belongs to another product."))
                self._release = release
        if cleaned.get("website"):
            raise ValidationError(
                _(
                    "This submission looks automated (a hidden field was filled in). If you are a person, clear "
                    "the field labelled “Leave this field empty” and send again."
                ),
                code="honeypot",
            )
        return cleaned

    def clean_reporter_name(self) -> str:
        value: str = self.cleaned_data["reporter_name"].strip()
        if not value:
            raise ValidationError(_("Tell us your name (or the name you use)."))
        return value

    def clean_phone(self) -> str:
        value: str = self.cleaned_data["phone"].strip()
        if value and not PHONE_RE.match(value):
            raise ValidationError(_("Use digits, spaces, + ( ) - . only, e.g. +86 592 555 0100."))
        return value

    def clean_product(self) -> str:
        value: str = self.cleaned_data["product"]
        if value and value != OTHER:
            found = self._found_product
            self._product = (
                found
                if found is not None and found.slug == value
                else Product.objects.filter(slug=value, is_public=True).first()
            )
            if self._product is None:
                raise ValidationError(_("Choose a product from the list."))
        return value

    def clean_release(self) -> str:
        value: str = self.cleaned_data.get("release") or ""
        return value

    def clean_description(self) -> str:
        value: str = self.cleaned_data["description"]
        if not value.strip():
            raise ValidationError(_("Describe the vulnerability."))
        if "BEGIN PGP MESSAGE" in value and not pgp.is_armored_message(value) and pgp.find_armored_message(value):
            # Text around an encrypted block is fine but worth knowing; no error.
            pass
        return value

    def clean_proposed_disclosure_date(self) -> dt.date | None:
        value: dt.date | None = self.cleaned_data.get("proposed_disclosure_date")
        if value is None:
            return None
        today = timezone.localdate()
        if value <= today:
            raise ValidationError(_("Choose a date in the future."))
        if value > today + dt.timedelta(days=2 * 366):
            raise ValidationError(_("Choose a date within the next two years."))
        return value

    def clean_credit(self) -> str:
        credit: str = self.cleaned_data["credit"].strip()
        return credit

    def clean_pgp_key(self) -> str:
        value: str = self.cleaned_data["pgp_key"].strip()
        if not value:
            return ""
        try:
            self.pgp_key_info = pgp.validate_public_key(value)
        except pgp.PgpError as exc:
            raise ValidationError(str(exc)) from None
        return value

    def clean_attachments(self) -> list[UploadedFile]:
        files: list[UploadedFile] = self.cleaned_data.get("attachments") or []
        return check_file_sizes(files, already=self.stashed_size)

    # -- output

    def to_input(self) -> ReportInput:
        c = self.cleaned_data
        return ReportInput(
            reporter_name=c["reporter_name"],
            reporter_email=c["reporter_email"],
            organization=c.get("organization", "").strip(),
            phone=c.get("phone", ""),
            references=c.get("references", ""),
            product=self._product,
            product_other=c.get("product_other", "") if self._product is None else "",
            release=self._release,
            version=c.get("version", ""),
            description=c["description"],
            technical_details=c.get("technical_details", ""),
            exploit_public=c.get("exploit_public") or YesNoUnknown.UNKNOWN,
            public_exploit=c.get("public_exploit", ""),
            plans_to_publish=c.get("plans_to_publish") or PublishPlan.UNDECIDED,
            disclosure_plans=c.get("disclosure_plans", ""),
            proposed_disclosure_date=c.get("proposed_disclosure_date"),
            credit=c.get("credit") or ("" if c.get("credit_anonymous") else c["reporter_name"]),
            credit_anonymous=bool(c.get("credit_anonymous")),
            pgp_key=c.get("pgp_key", ""),
            accepted_guidelines=bool(c.get("accept_guidelines")),
        )

    def incoming_files(self) -> list[IncomingFile]:
        return [
            IncomingFile(name=f.name or "", source=f, size=f.size) for f in self.cleaned_data.get("attachments", [])
        ]


def _set_up_report_fields(fields: dict[str, forms.Field]) -> None:
    """What every report form has besides its declarations, set once on the class's fields."""
    # Callables: evaluated only when the form is rendered.
    cast(forms.ChoiceField, fields["product"]).choices = product_choices
    cast(forms.ChoiceField, fields["release"]).choices = release_choices
    fields["website"].widget.attrs.update({"autocomplete": "off", "tabindex": "-1"})
    fields["reporter_email"].widget.attrs.update({"autocomplete": "email"})
    fields["reporter_name"].widget.attrs.update({"autocomplete": "name"})
    fields["organization"].widget.attrs.update({"autocomplete": "organization"})
    fields["phone"].widget.attrs.update({"autocomplete": "tel", "inputmode": "tel"})


# Every report (web form and API) is validated with a ReportForm: its fields are set up once per process, not
# copied per report.
_set_up_report_fields(ReportForm.base_fields)
share_fields(ReportForm)


def check_file_sizes(files: list[UploadedFile], *, already: int = 0) -> list[UploadedFile]:
    """Per-file and total limits, with a message naming each file that is too large."""
    limit, total_limit = max_file_bytes(), max_total_bytes()
    if len(files) > MAX_FILES:
        raise ValidationError(_("Attach at most %(n)d files; put more into an archive.") % {"n": MAX_FILES})
    errors = [
        _("“%(name)s” is larger than %(mb)d MB. Compress it or split it into parts.")
        % {"name": f.name, "mb": limit // (1024 * 1024)}
        for f in files
        if (f.size or 0) > limit
    ]
    if errors:
        raise ValidationError(errors)
    if already + sum(f.size or 0 for f in files) > total_limit:
        raise ValidationError(
            _("Together the files are over the limit of %(mb)d MB. Send fewer or smaller files.")
            % {"mb": total_limit // (1024 * 1024)}
        )
    return files


class LostLinkForm(forms.Form):
    email = forms.EmailField(label=_("E-mail address you reported with"), max_length=254)


class MessageForm(forms.Form):
    body = _text("message", label=_("Message to the security team"), rows=6)
    attachments = MultipleFileField(label=_("Files"), required=False)

    def clean_attachments(self) -> list[UploadedFile]:
        return check_file_sizes(self.cleaned_data.get("attachments") or [])

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        body = cleaned.get("body") or ""
        if not body.strip() and not cleaned.get("attachments") and not self.errors:
            raise ValidationError(_("Write a message or choose a file."))
        return cleaned


class DisclosureDateForm(forms.Form):
    date = forms.DateField(
        label=_("Proposed disclosure date"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )


class CreditForm(forms.Form):
    credit = _text("credit", label=_("Name to credit"))
    credit_anonymous = forms.BooleanField(label=_("Do not credit me publicly"), required=False)

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        credit = (cleaned.get("credit") or "").strip()
        problem = single_line_problem(credit)
        if problem is not None:
            self.add_error("credit", problem)
        if not cleaned.get("credit_anonymous") and not credit and "credit" not in self.errors:
            self.add_error("credit", _("Enter the name to credit, or choose no public credit."))
        return cleaned

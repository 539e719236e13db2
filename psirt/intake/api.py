"""`POST /api/v1/reports`: the report form as JSON or multipart (with files).

The body is validated by the same `ReportForm` as the web form and stored by the same `submit_report`
(same limits, same rate limits). Answers: 201 {"tracking_id", "portal_url"}; 400 malformed body; 413 too
large; 422 {"message", "errors": {field: [messages]}}; 429 with Retry-After.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.datastructures import MultiValueDict
from django.utils.translation import get_language
from ninja import Router, Schema, Status

from psirt.catalog.models import FirmwareRelease, Product
from psirt.intake import services
from psirt.intake.exceptions import AttachmentRejected, IntakeError, InvalidReport
from psirt.intake.forms import OTHER, ReportForm
from psirt.intake.models import Source

router = Router(tags=["reports"])

TEXT_FIELDS = (
    "reporter_name",
    "reporter_email",
    "organization",
    "phone",
    "references",
    "product",
    "version",
    "description",
    "technical_details",
    "public_exploit",
    "exploit_public",
    "disclosure_plans",
    "plans_to_publish",
    "proposed_disclosure_date",
    "credit",
    "pgp_key",
)
BOOL_FIELDS = ("accept_guidelines", "credit_anonymous")
FILE_FIELDS = ("attachments", "files")
SLUG_SHAPE = re.compile(r"[-a-zA-Z0-9_]+")  # anything a SlugField can hold


class ReportIn(Schema):
    """The report. Only `reporter_name`, `reporter_email`, `product`, `description` and
    `accept_guidelines` (true) are required."""

    reporter_name: str
    reporter_email: str
    organization: str = ""
    phone: str = ""
    references: str = ""
    product: str
    version: str = ""
    description: str
    technical_details: str = ""
    public_exploit: str = ""
    exploit_public: str = "unknown"
    disclosure_plans: str = ""
    plans_to_publish: str = "undecided"
    proposed_disclosure_date: dt.date | None = None
    credit: str = ""
    credit_anonymous: bool = False
    pgp_key: str = ""
    accept_guidelines: bool


class ReportCreated(Schema):
    tracking_id: str
    portal_url: str


class Problem(Schema):
    message: str
    errors: dict[str, list[str]] | None = None
    retry_after: int | None = None


_MULTIPART_SCHEMA = {
    "type": "object",
    "properties": {
        **{name: {"type": "string"} for name in TEXT_FIELDS},
        **{name: {"type": "boolean"} for name in BOOL_FIELDS},
        "attachments": {"type": "array", "items": {"type": "string", "format": "binary"}},
    },
    "required": ["reporter_name", "reporter_email", "product", "description", "accept_guidelines"],
}


def _bad_request(message: str) -> IntakeError:
    exc = IntakeError(message)
    exc.status = 400
    return exc


def _parse(request: HttpRequest) -> tuple[dict[str, Any], MultiValueDict[str, Any]]:
    """The body as (field values, files), from JSON or multipart/form-data."""
    content_type = (request.content_type or "").lower()
    if content_type == "multipart/form-data" or content_type == "application/x-www-form-urlencoded":
        length = int(request.META.get("CONTENT_LENGTH") or 0)
        if length > services.max_total_bytes() + 5 * 1024 * 1024:
            raise AttachmentRejected("The request body is too large.")
        data = {key: request.POST.get(key) for key in request.POST}
        files: MultiValueDict[str, Any] = MultiValueDict()
        for name in FILE_FIELDS:
            for f in request.FILES.getlist(name):
                files.appendlist("attachments", f)
        return data, files
    if content_type not in {"application/json", ""}:
        raise _bad_request("Send application/json or multipart/form-data.")
    try:
        data = json.loads(request.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise _bad_request("The body is not valid JSON (UTF-8).") from None
    if not isinstance(data, dict):
        raise _bad_request("The body must be a JSON object with the report's fields.")
    return data, MultiValueDict()


def _to_form_data(
    raw: dict[str, Any],
) -> tuple[dict[str, Any], dict[str, list[str]], tuple[Product | None, FirmwareRelease | None]]:
    """Map the API's fields onto the form's, checking types. Returns (form data, type errors, the public product
    and release the data names, for the form to check without reading them again)."""
    errors: dict[str, list[str]] = {}
    data: dict[str, Any] = {}
    for key, value in raw.items():
        if key in TEXT_FIELDS:
            if value is None:
                continue
            if not isinstance(value, str):
                errors[key] = ["Must be a string."]
                continue
            data[key] = value
        elif key in BOOL_FIELDS:
            if isinstance(value, str) and value.lower() in {"true", "1", "yes", "on", "false", "0", "no", "off", ""}:
                value = value.lower() in {"true", "1", "yes", "on"}
            if not isinstance(value, bool):
                errors[key] = ["Must be true or false."]
                continue
            if value:
                data[key] = "on"
        else:
            errors[key] = ["Unknown field."]
    # `product` is a catalog slug or free text; `version` a release of that product or free text.
    product_text = (data.pop("product", "") or "").strip()
    # Free text with spaces or punctuation cannot be a slug: no query for it.
    could_be_slug = SLUG_SHAPE.fullmatch(product_text) is not None
    product = Product.objects.filter(slug=product_text, is_public=True).first() if could_be_slug else None
    release = None
    if product is not None:
        data["product"] = product.slug
        version = (data.get("version") or "").strip()
        release = FirmwareRelease.objects.filter(product=product, version=version, is_public=True).first()
        if release is not None:
            data["release"] = str(release.public_id)
    elif product_text:
        data["product"] = OTHER
        data["product_other"] = product_text
    return data, errors, (product, release)


@router.post(
    "",
    auth=None,
    response={201: ReportCreated, 400: Problem, 413: Problem, 422: Problem, 429: Problem},
    summary="Submit a vulnerability report",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": ReportIn.model_json_schema()},
                "multipart/form-data": {"schema": _MULTIPART_SCHEMA},
            },
        }
    },
)
def create_report(request: HttpRequest) -> Status[ReportCreated]:
    """File a report as the web form does. No account needed; rate-limited per address and per e-mail.
    The private portal link in the answer is shown only here and mailed to the reporter."""
    raw, files = _parse(request)
    data, type_errors, found = _to_form_data(raw)
    form = ReportForm(data, files, found=found)
    valid = form.is_valid()
    if type_errors or not valid:
        errors = {field: [str(m) for m in msgs] for field, msgs in form.errors.items()} if not valid else {}
        # Report problems under the API's own field names.
        if "product_other" in errors:
            errors.setdefault("product", []).extend(errors.pop("product_other"))
        if "release" in errors:
            errors.setdefault("version", []).extend(errors.pop("release"))
        if "__all__" in errors:
            errors["non_field_errors"] = errors.pop("__all__")
        for field, msgs in type_errors.items():
            errors[field] = msgs
        raise InvalidReport(errors)
    submission = services.submit_report(
        data=form.to_input(),
        files=form.incoming_files(),
        source=Source.API,
        language=get_language() or settings.LANGUAGE_CODE,
        request=request,
    )
    # The answer as its schema's instance: ninja writes it out as it is, without validating it a second time.
    return Status(201, ReportCreated(tracking_id=submission.report.tracking_id, portal_url=submission.portal_url))

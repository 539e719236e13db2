"""Customer organizations imported from CSV: all lines valid, or nothing imported and every bad line named.

Columns (header required, any order): organization, name, email, language, products — products are catalog
slugs separated by spaces, commas or semicolons. An organization is found by name and gains the listed
products; a contact is found by organization and address and is updated.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _

from psirt.accounts.models import User
from psirt.audit.services import record
from psirt.catalog.models import Product
from psirt.lib.access import require_lead
from psirt.notify.exceptions import NotifyError
from psirt.notify.models import CustomerContact, CustomerOrganization
from psirt.notify.services.subscriptions import email_hash, normalise_email

MAX_BYTES = 1024 * 1024
MAX_ROWS = 5000
COLUMNS = ("organization", "name", "email", "language", "products")


@dataclass
class ImportResult:
    organizations: int = 0
    contacts: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise NotifyError(
            _("The file is not UTF-8 text (bad byte at position %(pos)s). Save it as “CSV UTF-8” and try again.")
            % {"pos": exc.start}
        ) from exc


def import_customers_csv(*, data: bytes, actor: User, request: HttpRequest | None = None) -> ImportResult:
    """Validate every line, then import all of them in one transaction (or none, with the errors)."""
    require_lead(actor, NotifyError)
    if len(data) > MAX_BYTES:
        raise NotifyError(_("The file is larger than 1 MB: split it into smaller files."))
    text = _decode(data)
    if "\x00" in text:
        raise NotifyError(_("The file is not a text CSV file."))
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in ("organization", "email") if c not in header]
    if missing:
        raise NotifyError(
            _("The first line must name the columns: organization,name,email,language,products (missing: %(cols)s).")
            % {"cols": ", ".join(missing)}
        )
    reader.fieldnames = header
    known = dict(Product.objects.values_list("slug", "pk"))
    result = ImportResult()
    rows: list[dict[str, Any]] = []
    try:
        for number, raw in enumerate(reader, start=2):
            if number - 1 > MAX_ROWS:
                raise NotifyError(_("The file has more than %(max)s lines: split it.") % {"max": MAX_ROWS})
            if None in raw:
                result.errors.append((number, _("More values than columns.")))
                continue
            row = {k: (v or "").strip() for k, v in raw.items() if k in COLUMNS}
            if not any(row.values()):
                continue
            problems = []
            if not row.get("organization") or len(row["organization"]) > 200:
                problems.append(_("organization is empty or longer than 200 characters"))
            try:
                validate_email(row.get("email", ""))
            except ValidationError:
                problems.append(_("“%(email)s” is not an e-mail address") % {"email": row.get("email", "")[:80]})
            language = (row.get("language") or "en").lower()
            if language not in {"en", "zh", "zh-hans"}:
                problems.append(_("language must be en or zh"))
            slugs = [s for s in row.get("products", "").replace(";", " ").replace(",", " ").split() if s]
            unknown = [s for s in slugs if s not in known]
            if unknown:
                problems.append(_("unknown products: %(slugs)s") % {"slugs": ", ".join(unknown[:5])[:200]})
            if len(row.get("name", "")) > 200:
                problems.append(_("name is longer than 200 characters"))
            if problems:
                result.errors.append((number, "; ".join(problems)))
                continue
            rows.append({**row, "language": "zh-hans" if language.startswith("zh") else "en", "slugs": slugs})
    except csv.Error as exc:
        raise NotifyError(_("The file is not valid CSV: %(error)s") % {"error": str(exc)[:200]}) from exc
    if result.errors:
        return result
    with transaction.atomic():
        organizations: dict[str, CustomerOrganization] = {}
        for row in rows:
            org = organizations.get(row["organization"])
            if org is None:
                org, created = CustomerOrganization.objects.get_or_create(name=row["organization"])
                organizations[org.name] = org
                result.organizations += int(created)
            if row["slugs"]:
                org.products.add(*[known[s] for s in row["slugs"]])
            _contact, created = CustomerContact.objects.update_or_create(
                organization=org,
                email_hash=email_hash(row["email"]),
                defaults={
                    "email": normalise_email(row["email"]),
                    "name": row.get("name", ""),
                    "language": row["language"],
                },
            )
            result.contacts += int(created)
        record(
            action="notify.customers_imported",
            actor=actor,
            request=request,
            data={"lines": len(rows), "organizations": result.organizations, "contacts": result.contacts},
        )
    return result

"""`psirt demo [--vendor visiontek|beca]`: load a reference vendor's site (profile, texts, catalog, accounts and,
for VisionTek, cases and advisories). Idempotent: a second run creates nothing.

`STEPS` lists the loaders (each `(name, function(log))`), run in order, each in its own transaction and each
idempotent on its own."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from psirt.demo import beca, catalog
from psirt.demo.advisories import load_demo_advisories, load_policy
from psirt.demo.cases import load_demo_cases
from psirt.demo.catalog import load_accounts, load_catalog, load_organization
from psirt.demo.components import load_demo_components
from psirt.demo.regulatory import load_demo_regulatory
from psirt.organization.models import OrganizationProfile

Step = tuple[str, Callable[[Callable[[str], None]], None]]

STEPS: list[Step] = [
    ("organization", load_organization),
    ("catalog", load_catalog),
    ("accounts", load_accounts),
    ("policy", load_policy),
    ("cases", load_demo_cases),  # opens demo reports through the intake services
    ("advisories", load_demo_advisories),
    ("components", load_demo_components),
    ("regulatory", load_demo_regulatory),  # exploited cases, filings and an incident on /desk/regulatory/
]

# BECA publishes no advisory yet: its public list shows the empty state, and staff see how to add the first one.
BECA_STEPS: list[Step] = [
    ("organization", beca.load_organization),
    ("pages", beca.load_pages),
    ("catalog", beca.load_catalog),
    ("accounts", beca.load_accounts),
    ("policy", beca.load_policy),  # set by the demo lead, so after the accounts
]

# The reference vendors by name (`--vendor`, default PSIRT_DEMO_VENDOR).
VENDOR_STEPS: dict[str, list[Step]] = {"visiontek": STEPS, "beca": BECA_STEPS}


# Each reference vendor's name in the organization profile once it is loaded.
VENDOR_NAMES: dict[str, str] = {"visiontek": catalog.ORGANIZATION["name_en"], "beca": beca.ORGANIZATION["name_en"]}


def _other_vendor(vendor: str) -> str:
    """The other reference vendor this database was loaded with, or ""."""
    name = OrganizationProfile.get().name_en
    return next((other for other, other_name in VENDOR_NAMES.items() if other != vendor and name == other_name), "")


class Command(BaseCommand):
    help = (
        "Load a reference vendor's demo data (profile, catalog, demo accounts; VisionTek also cases and advisories); "
        "idempotent."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--force",
            action="store_true",
            help="Load even outside dev mode (creates sign-ins with a known password: never on a real site).",
        )
        parser.add_argument(
            "--vendor",
            default=None,
            help=f"Which reference vendor to load: {' or '.join(VENDOR_STEPS)} (default: PSIRT_DEMO_VENDOR).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.PSIRT_DEV and not options["force"]:
            # Demo accounts with a published password on a production site would be an open door.
            self.stderr.write(
                "psirt demo: skipped, not in dev mode (PSIRT_DEV=1). Demo data includes sign-ins with a known "
                "password; use --force to load it anyway (never on a public site)."
            )
            return
        vendor = (options.get("vendor") or settings.PSIRT_DEMO_VENDOR).strip().lower()
        if vendor not in VENDOR_STEPS:
            raise CommandError(f"psirt demo: unknown vendor {vendor!r}; use {' or '.join(VENDOR_STEPS)}.")
        other = _other_vendor(vendor)
        if other:
            # Two vendors in one database would mix their catalogs under one profile.
            raise CommandError(
                f"psirt demo: this database holds the {other} demo; load {vendor} into a database of its own "
                f"(e.g. PSIRT_VAR_DIR=var/{vendor})."
            )
        verbose = int(options.get("verbosity", 1)) >= 1

        def log(message: str) -> None:
            if verbose:
                self.stdout.write(f"  {message}")

        for name, step in VENDOR_STEPS[vendor]:
            try:
                with transaction.atomic():
                    step(log)
            except ValidationError as exc:
                raise CommandError(f"demo step {name!r} failed: {'; '.join(exc.messages)}") from None
        if verbose:
            self.stdout.write(self.style.SUCCESS("Demo data is loaded."))

"""`psirt demo`: load the demo vendor, catalog, accounts, cases and advisories. Idempotent: a second run
creates nothing.

`STEPS` lists the loaders (each `(name, function(log))`), run in order, each in its own transaction and each
idempotent on its own."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from psirt.demo.advisories import load_demo_advisories
from psirt.demo.cases import load_demo_cases
from psirt.demo.catalog import load_accounts, load_catalog, load_organization

STEPS: list[tuple[str, Callable[[Callable[[str], None]], None]]] = [
    ("organization", load_organization),
    ("catalog", load_catalog),
    ("accounts", load_accounts),
    ("cases", load_demo_cases),  # opens demo reports through the intake services
    ("advisories", load_demo_advisories),
]


class Command(BaseCommand):
    help = "Load the demo data (a fictional vendor, two product lines, products, releases, demo accounts); idempotent."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--force",
            action="store_true",
            help="Load even outside dev mode (creates sign-ins with a known password: never on a real site).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.PSIRT_DEV and not options["force"]:
            # Demo accounts with a published password on a production site would be an open door.
            self.stderr.write(
                "psirt demo: skipped, not in dev mode (PSIRT_DEV=1). Demo data includes sign-ins with a known "
                "password; use --force to load it anyway (never on a public site)."
            )
            return
        verbose = int(options.get("verbosity", 1)) >= 1

        def log(message: str) -> None:
            if verbose:
                self.stdout.write(f"  {message}")

        for name, step in STEPS:
            try:
                with transaction.atomic():
                    step(log)
            except ValidationError as exc:
                raise CommandError(f"demo step {name!r} failed: {'; '.join(exc.messages)}") from None
        if verbose:
            self.stdout.write(self.style.SUCCESS("Demo data is loaded."))

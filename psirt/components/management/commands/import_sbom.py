"""`psirt import-sbom --product SLUG --version VERSION [--variant V] FILE`: store a CycloneDX or SPDX JSON SBOM as
the current bill of materials of a firmware release (the operator's door; the desk and the API call the same
service)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from psirt.catalog.models import FirmwareRelease
from psirt.components.exceptions import ComponentsError
from psirt.components.sbom import MAX_SBOM_BYTES
from psirt.components.services import import_sbom


class Command(BaseCommand):
    help = "Store an SBOM (CycloneDX 1.4–1.6 JSON or SPDX 2.3 JSON) for one firmware release."

    def add_arguments(self, parser: CommandParser) -> None:
        # --version names the firmware release here, not the program's version that Django offers by default.
        # (argparse checks conflicts in the parser and in its group of options, so both resolve.)
        parser.conflict_handler = "resolve"
        parser._optionals.conflict_handler = "resolve"
        parser.add_argument("--product", required=True, metavar="SLUG")
        parser.add_argument("--version", required=True, dest="release_version", metavar="VERSION")
        parser.add_argument("--variant", default="", help="Region or operator variant; empty for the standard build")
        parser.add_argument("file", metavar="FILE")

    def handle(self, *args: Any, **options: Any) -> None:
        release = FirmwareRelease.objects.filter(
            product__slug=options["product"], version=options["release_version"], variant=options["variant"]
        ).first()
        if release is None:
            raise CommandError(
                f"no release {options['release_version']!r} of product {options['product']!r} in the catalog",
                returncode=1,
            )
        path = Path(options["file"])
        try:
            if path.stat().st_size > MAX_SBOM_BYTES:
                raise CommandError(f"{path}: larger than {MAX_SBOM_BYTES // (1024 * 1024)} MB", returncode=1)
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"{path}: cannot be read ({exc.strerror})", returncode=1) from None
        try:
            document = import_sbom(release=release, data=data, actor=None, filename=path.name)
        except ComponentsError as exc:
            raise CommandError(f"{path}: {exc.message}", returncode=1) from None
        self.stdout.write(
            f"stored {document.format} {document.spec_version} SBOM for {release}: "
            f"{document.component_count} components, sha256 {document.sha256}"
        )

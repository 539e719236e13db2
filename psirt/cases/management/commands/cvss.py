"""`psirt cvss VECTOR`: print the scores of a CVSS v3.1 or v4.0 vector as JSON (exit 2 when it is invalid)."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from psirt.lib.cvss import CvssError, score_vector


class Command(BaseCommand):
    help = (
        "Score a CVSS v3.1 or v4.0 vector: prints {version, base, temporal|threat, environmental, severity, "
        "vector} as JSON; exit status 2 with the reason when the vector is invalid."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("vector", help="e.g. CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = score_vector(options["vector"])
        except CvssError as exc:
            # Exit 2 like a usage error: the input, not psirt, is wrong.
            raise CommandError(exc.message, returncode=2) from exc
        self.stdout.write(json.dumps(result.as_dict(), ensure_ascii=False))

"""`psirt doctor`: check a running installation and say what to fix. Exit 0 when nothing fails (warnings allowed),
1 when a check fails."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from psirt.ops.doctor import FAIL, run_checks


class Command(BaseCommand):
    help = (
        "Check this installation: configuration, keys against the data, database and migrations, workers and "
        "scheduler, disk space, the CSAF tree, the signing key's expiry, security.txt's Expires. Exit 1 on a fault."
    )
    # The doctor runs the system checks itself, as one of its findings, instead of stopping at the first error.
    requires_system_checks: list[str] = []

    def handle(self, *args: Any, **options: Any) -> None:
        findings = run_checks()
        width = max(len(f.name) for f in findings)
        for finding in findings:
            self.stdout.write(f"{finding.status:<4}  {finding.name:<{width}}  {finding.detail}")
            if finding.fix and finding.status != "ok":
                self.stdout.write(f"      {'':<{width}}  fix: {finding.fix}")
        failed = [f.name for f in findings if f.status == FAIL]
        if failed:
            raise CommandError(f"{len(failed)} check(s) failed: {', '.join(failed)}", returncode=1)
        self.stdout.write("no check failed")

"""`psirt createadmin --email ADDRESS`: create a lead account (password typed twice, or --password-stdin)."""

from __future__ import annotations

import getpass
import sys
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from psirt.accounts import services
from psirt.accounts.exceptions import AccountError
from psirt.accounts.models import Role, User


class Command(BaseCommand):
    help = "Create a lead account (can use the desk and the Django admin)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--email", required=True, help="Sign-in address of the new lead.")
        parser.add_argument("--name", default="", help="Display name.")
        parser.add_argument(
            "--password-stdin",
            action="store_true",
            help="Read the password from the first line of standard input instead of prompting.",
        )

    def _password(self, options: dict[str, Any]) -> str:
        if options["password_stdin"]:
            line = sys.stdin.readline()
            password = line.rstrip("\r\n")
            if not password:
                raise CommandError("No password on standard input.")
            return password
        if not sys.stdin.isatty():
            raise CommandError("No terminal to ask for the password: use --password-stdin.")
        first = getpass.getpass("Password: ")
        second = getpass.getpass("Password (again): ")
        if first != second:
            raise CommandError("The two passwords differ; nothing was created.")
        return first

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            email = services.normalize_email(options["email"])
        except AccountError as exc:
            raise CommandError(str(exc.message)) from None
        if User.objects.filter(email__iexact=email).exists():
            raise CommandError(f"An account with the address {email} already exists; nothing was created.")
        password = self._password(options)
        try:
            user = services.create_user(email=email, name=options["name"], role=Role.LEAD, password=password)
        except ValidationError as exc:
            raise CommandError("Password refused: " + " ".join(str(m) for m in exc.messages)) from None
        except AccountError as exc:
            raise CommandError(str(exc.message)) from None
        self.stdout.write(
            f"Created lead {user.email}. Sign in at /en/accounts/login/ and set up two-factor authentication."
        )

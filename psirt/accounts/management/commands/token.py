"""`psirt token create|revoke|list`: API tokens from the command line (create prints the token once)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from psirt.accounts import services
from psirt.accounts.access import KEY_ID_RE, SCOPES
from psirt.accounts.exceptions import AccountError
from psirt.accounts.models import ApiToken, User


class Command(BaseCommand):
    help = "API tokens: create (printed once), revoke, list."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True, metavar="SUBCOMMAND")
        create = sub.add_parser("create", help="Create a token and print it once.")
        create.add_argument("--user", required=True, help="E-mail address of the token's owner.")
        create.add_argument(
            "--scope",
            action="append",
            required=True,
            dest="scopes",
            help="A scope; repeat for several. Known: " + ", ".join(SCOPES),
        )
        create.add_argument("--name", default="cli", help="What uses the token.")
        create.add_argument("--expires-days", type=int, default=None, help="Lifetime in days (default: none).")
        revoke = sub.add_parser("revoke", help="Revoke a token by its key id (the part after psirt_).")
        revoke.add_argument("key_id")
        listing = sub.add_parser("list", help="List tokens (never their secrets).")
        listing.add_argument("--user", default=None, help="Only this user's tokens.")

    def handle(self, *args: Any, **options: Any) -> None:
        getattr(self, "_" + options["subcommand"])(options)

    def _create(self, options: dict[str, Any]) -> None:
        email = (options["user"] or "").strip().lower()
        user = User.objects.filter(email__iexact=email).first()
        if user is None:
            raise CommandError(f"No account with the address {email!r}.")
        try:
            token, raw = services.create_token(
                user=user,
                name=options["name"],
                scopes=options["scopes"],
                expires_days=options["expires_days"],
                actor=None,
            )
        except AccountError as exc:
            raise CommandError(str(exc.message)) from None
        self.stderr.write(f"Token {token.key_id} for {user.email}, scopes {', '.join(token.scopes)}. It is shown once:")
        self.stdout.write(raw)

    def _revoke(self, options: dict[str, Any]) -> None:
        key_id = options["key_id"].strip()
        if key_id.startswith("psirt_"):
            key_id = key_id.split("_")[1]  # a whole token was pasted
        if not KEY_ID_RE.fullmatch(key_id):
            raise CommandError(f"{key_id[:40]!r} is not a key id (12 hex digits, the part after psirt_).")
        token = ApiToken.objects.select_related("user").filter(key_id=key_id).first()
        if token is None:
            raise CommandError(f"No token with key id {key_id!r}.")
        services.revoke_token(token=token, actor=None)
        self.stdout.write(f"Revoked {token.key_id} ({token.name}) of {token.user.email}.")

    def _list(self, options: dict[str, Any]) -> None:
        tokens = ApiToken.objects.select_related("user").order_by("user__email", "-created_at")
        if options["user"]:
            tokens = tokens.filter(user__email__iexact=options["user"].strip())
        now = timezone.now()
        for t in tokens:
            if t.revoked_at:
                state = "revoked"
            elif t.expires_at and t.expires_at <= now:
                state = "expired"
            else:
                state = "active"
            expires = t.expires_at.date().isoformat() if t.expires_at else "never"
            used = t.last_used_at.isoformat(timespec="minutes") if t.last_used_at else "never"
            self.stdout.write(
                f"{t.key_id}  {state:<8} {t.user.email:<30} {t.name:<20} {','.join(t.scopes)}  "
                f"expires {expires}  last used {used}"
            )
        if not tokens:
            self.stdout.write("No tokens.")

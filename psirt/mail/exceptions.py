"""What a sender tells the outbox about a row it could not send."""

from __future__ import annotations


class Cancelled(Exception):
    """The recipient is gone (unsubscribed, deleted, deactivated): nothing to send, nothing to retry."""


class NotSendable(Exception):
    """The row can never be sent as it is (e.g. the recipient's OpenPGP key cannot encrypt, and the clear
    text is never sent instead): the outbox gives up at once. The message is stored, so it names no secret."""


class SendError(Exception):
    """A failed attempt whose message is safe to store and show (no address, body or secret): retried."""


class Unreachable(SendError):
    """The way to the recipient failed, not this row: a receiver that refuses or drops connections, times out, or
    answers that it cannot take anything now. Several in a row pause that way out (`psirt.mail.transports`), and
    its rows wait without being charged an attempt. The message is stored like a SendError's."""

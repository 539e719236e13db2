"""Tokens in subscription links: `<public id hex>.<keyed hash>`. Nothing is stored: the hash is derived from
the id with SECRET_KEY, per purpose, so a confirm link cannot manage and a manage link cannot confirm.
Deleting the subscription kills every link to it."""

from __future__ import annotations

import hmac
import uuid

from psirt.lib.crypto import keyed_hash

CONFIRM = "notify.confirm"
MANAGE = "notify.manage"


def make(public_id: uuid.UUID, purpose: str) -> str:
    return f"{public_id.hex}.{keyed_hash(public_id.hex, purpose=purpose)[:40]}"


def parse(token: str, purpose: str) -> uuid.UUID | None:
    """The public id a token names, or None for anything malformed or forged."""
    if not isinstance(token, str) or len(token) > 100 or "." not in token:
        return None
    raw_id, _dot, signature = token.partition(".")
    try:
        public_id = uuid.UUID(hex=raw_id)
    except ValueError:
        return None
    if public_id.hex != raw_id:
        return None
    if not hmac.compare_digest(signature, keyed_hash(public_id.hex, purpose=purpose)[:40]):
        return None
    return public_id

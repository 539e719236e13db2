"""Writing and verifying the hash-chained audit log.

`record` must be called inside the same transaction as the change it describes (services do this), so a
change without its audit entry, or an entry for a change that rolled back, cannot exist."""

from __future__ import annotations

import hashlib
import ipaddress
import json
from dataclasses import dataclass
from typing import Any

from django.db import models, transaction
from django.http import HttpRequest
from django.utils import timezone

from psirt.audit.models import AuditEvent, AuditHead

GENESIS = "0" * 64


def client_ip(request: HttpRequest | None) -> str | None:
    """The peer address. Behind a proxy, gunicorn's --forwarded-allow-ips rewrites REMOTE_ADDR itself."""
    if request is None:
        return None
    addr = request.META.get("REMOTE_ADDR") or ""
    try:
        # Stored normalised, so the hash computed before saving equals the one recomputed after reading.
        return str(ipaddress.ip_address(addr))
    except ValueError:
        return None


def _canonical(event: AuditEvent) -> bytes:
    payload = {
        "seq": event.seq,
        "at": event.at.isoformat(),
        "actor": event.actor_id,
        "actor_label": event.actor_label,
        "action": event.action,
        "target_type": event.target_type,
        "target_id": event.target_id,
        "ip": event.ip,
        "data": event.data,
    }
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def compute_hash(prev_hash: str, event: AuditEvent) -> str:
    return hashlib.sha256(prev_hash.encode("ascii") + b"\n" + _canonical(event)).hexdigest()


def record(
    *,
    action: str,
    actor: Any = None,
    request: HttpRequest | None = None,
    target: models.Model | None = None,
    target_type: str = "",
    target_id: str = "",
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event. `target` is described by its public identifier when it has one (`public_id`,
    `tracking_id`, `slug`), never by content. `data` must hold no secrets or report bodies."""
    if actor is None and request is not None:
        user = getattr(request, "user", None)
        actor = user if user is not None and user.is_authenticated else None
    if target is not None:
        target_type = target_type or target._meta.label_lower
        for attr in ("public_id", "tracking_id", "slug", "key_id", "pk"):
            value = getattr(target, attr, None)
            if value:
                target_id = target_id or str(value)
                break
    with transaction.atomic():
        # Lock the head row: appends are serialised across processes, so the chain never forks.
        head = AuditHead.objects.select_for_update().filter(id=1).first()
        if head is None:
            AuditHead.objects.get_or_create(id=1, defaults={"seq": 0, "hash": GENESIS})
            head = AuditHead.objects.select_for_update().get(id=1)
        event = AuditEvent(
            seq=head.seq + 1,
            at=timezone.now(),
            actor=actor if actor is not None and getattr(actor, "pk", None) else None,
            actor_label=(getattr(actor, "email", "") or str(actor or ""))[:254] if actor is not None else "",
            action=action,
            target_type=target_type[:80],
            target_id=str(target_id)[:80],
            ip=client_ip(request),
            data=data or {},
            prev_hash=head.hash,
        )
        event.hash = compute_hash(head.hash, event)
        event.save()
        head.seq = event.seq
        head.hash = event.hash
        head.save(update_fields=["seq", "hash"])
    return event


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    problem: str = ""


def verify_chain(*, batch: int = 2000) -> ChainReport:
    """Walk the chain from the start. Reports the first event whose link is broken: edited content
    (hash mismatch), a deleted row (gap in seq / prev_hash not the previous hash), or a truncated tail
    (head differs from the last event)."""
    prev_hash = GENESIS
    expected_seq = 1
    checked = 0
    for event in AuditEvent.objects.order_by("seq").iterator(chunk_size=batch):
        if event.seq != expected_seq:
            return ChainReport(False, checked, expected_seq, f"event #{expected_seq} is missing (deleted?)")
        if event.prev_hash != prev_hash:
            return ChainReport(False, checked, event.seq, f"event #{event.seq} does not link to the previous one")
        if compute_hash(prev_hash, event) != event.hash:
            return ChainReport(False, checked, event.seq, f"event #{event.seq} was altered after it was written")
        prev_hash = event.hash
        expected_seq += 1
        checked += 1
    head = AuditHead.objects.filter(id=1).first()
    if head is not None and (head.seq != checked or head.hash != prev_hash):
        return ChainReport(False, checked, checked + 1, f"events after #{checked} are missing (truncated log)")
    return ChainReport(True, checked)

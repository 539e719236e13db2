"""Writing and verifying the hash-chained audit log.

`record` must be called inside the same transaction as the change it describes (services do this), so a
change without its audit entry, or an entry for a change that rolled back, cannot exist."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, NoReturn

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import connection, models, transaction
from django.http import Http404, HttpRequest
from django.utils import timezone

from psirt.audit.models import AuditEvent, AuditHead
from psirt.lib.access import is_active_user
from psirt.lib.http import client_address

GENESIS = "0" * 64


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
    actor: AbstractBaseUser | AnonymousUser | None = None,
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
    event = AuditEvent(
        actor_id=actor.pk if actor is not None and actor.pk else None,
        actor_label=(getattr(actor, "email", "") or str(actor or ""))[:254] if actor is not None else "",
        action=action,
        target_type=target_type[:80],
        target_id=str(target_id)[:80],
        ip=client_address(request) if request is not None else None,
        data=data or {},
    )
    with transaction.atomic():
        # Lock the head row: appends are serialised across processes, so the chain never forks. Everything
        # that does not depend on the head is prepared above, and the head is read and written with plain
        # statements: while it is locked, every other writer of the log waits.
        head = _lock_head()
        event.seq = head[0] + 1
        event.at = timezone.now()
        event.prev_hash = head[1]
        event.hash = compute_hash(event.prev_hash, event)
        event.save(force_insert=True)
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {_head_table()} SET seq = %s, hash = %s WHERE id = 1",  # noqa: S608
                [event.seq, event.hash],
            )
    return event


def deny_access(
    *, user: AbstractBaseUser | AnonymousUser | None, target: models.Model, request: HttpRequest | None = None
) -> NoReturn:
    """Refuse `user` a confidential object that exists: audit "<model>.access_denied" (who tried which object)
    in its own transaction and answer 404, as if the object did not exist. Need-to-know breaches are exactly
    what a lead looks for in the log, so every access helper (cases, advisories, reports) refuses through
    here, with one event shape."""
    with transaction.atomic():
        record(
            action=f"{target._meta.model_name}.access_denied",
            actor=user if is_active_user(user) else None,
            request=request,
            target=target,
        )
    raise Http404


def _head_table() -> str:
    return connection.ops.quote_name(AuditHead._meta.db_table)


def _lock_head() -> tuple[int, str]:
    """(seq, hash) of the chain's head, locked until the transaction ends (created on first use)."""
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    sql = f"SELECT seq, hash FROM {_head_table()} WHERE id = 1{lock}"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql)
        row = cursor.fetchone()
        if row is None:
            AuditHead.objects.get_or_create(id=1, defaults={"seq": 0, "hash": GENESIS})
            cursor.execute(sql)
            row = cursor.fetchone()
    return int(row[0]), str(row[1])


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

"""Writing and verifying the keyed, hash-chained audit log, and its signed checkpoints.

`record` must be called inside the same transaction as the change it describes (services do this), so a
change without its audit entry, or an entry for a change that rolled back, cannot exist.

Each event's hash is an HMAC-SHA256, under a key kept outside the database (`PSIRT_AUDIT_KEYS`), of the previous
event's hash and the event's canonical content, which names the key's id. Someone who can write the database but
does not hold the key cannot delete or edit events and recompute a chain that verifies. Someone who holds the key
too is caught by checkpoints: `write_checkpoint` signs the head (sequence number and hash) with the team's OpenPGP
signing key into a file outside the database, and `verify_checkpoints` proves that every checkpointed event is
still there, unchanged (the head's hash commits to every event before it)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, NoReturn

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import ImproperlyConfigured
from django.db import models, transaction
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from psirt.audit.models import AuditEvent, AuditHead
from psirt.lib.access import is_active_user
from psirt.lib.errors import DomainError
from psirt.lib.http import client_address
from psirt.lib.kept import Kept
from psirt.lib.prepared import PreparedInsert
from psirt.lib.signing import signing_key, verify_clearsigned

GENESIS = "0" * 64
CHECKPOINT_TYPE = "psirt-audit-checkpoint"
CHECKPOINT_SUFFIX = ".asc"
MAX_CHECKPOINT_BYTES = 64 * 1024


class AuditKeyMissing(DomainError):
    """No audit key is configured, or an event names a key that is not configured."""


def key_id(raw: bytes) -> str:
    """A short public name of a key, recorded with each event so rotation knows which key verifies it. It is a
    hash of the key, so it reveals nothing usable about the key itself."""
    return hashlib.sha256(b"psirt audit key id\n" + raw).hexdigest()[:16]


@lru_cache(maxsize=4)
def _parse_keys(configured: tuple[str, ...]) -> tuple[tuple[str, bytes], ...]:
    raws = [base64.urlsafe_b64decode(value.encode("ascii")) for value in configured]
    return tuple((key_id(raw), raw) for raw in raws)


def audit_keys() -> tuple[tuple[str, bytes], ...]:
    """(key id, key) of every configured audit key; the first keys new events. Raises AuditKeyMissing if none."""
    keys = _parse_keys(tuple(getattr(settings, "PSIRT_AUDIT_KEYS", ()) or ()))
    if not keys:
        raise AuditKeyMissing(
            _("PSIRT_AUDIT_KEYS is not set: the audit log cannot be written or verified without its key.")
        )
    return keys


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
        "key_id": event.key_id,
    }
    return _CANONICAL_JSON.encode(payload).encode("utf-8")


# The canonical form's JSON: keys sorted, no spaces, text as it is. One encoder for every event.
_CANONICAL_JSON = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def compute_hash(prev_hash: str, event: AuditEvent, key: bytes) -> str:
    """HMAC-SHA256 under `key` (the one `event.key_id` names) of the previous hash and the event's content."""
    return hmac.digest(key, prev_hash.encode("ascii") + b"\n" + _canonical(event), "sha256").hex()


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
    key_id, key = audit_keys()[0]
    # Positional, in the model's field order (`_EVENT_FIELDS`): what Django makes a loaded row with, without
    # looking up a default for every field left out. The chained fields are set under the head's lock.
    values: tuple[Any, ...] = (
        None,  # id
        None,  # seq
        None,  # at
        actor.pk if actor is not None and actor.pk else None,
        (getattr(actor, "email", "") or str(actor or ""))[:254] if actor is not None else "",
        action,
        target_type[:80],
        str(target_id)[:80],
        client_address(request) if request is not None else None,
        data or {},
        key_id,
        None,  # prev_hash
        None,  # hash
    )
    event = AuditEvent(*values)  # type: ignore[misc]  # the stubs read a star-argument as the first field
    insert = PreparedInsert(event, late=_CHAINED)
    database = insert.database
    # No savepoint of its own: the entry belongs to the caller's transaction, and a failure here fails it.
    with transaction.atomic(using=database.alias, savepoint=False), database.cursor() as cursor:
        # Lock the head row: appends are serialised across processes, so the chain never forks. Everything
        # that does not depend on the head is prepared above (the INSERT statement compiled, its values
        # adapted), and while the head is locked this costs one statement to read it and one to write both the
        # event and the new head: every other writer of the log waits for as long as it is held.
        head = _lock_head(cursor)
        event.seq = head[0] + 1
        event.at = timezone.now()
        event.prev_hash = head[1]
        event.hash = compute_hash(event.prev_hash, event, key)
        _append(cursor, event, insert)
    return event


# The event's fields whose values are set under the head's lock.
_CHAINED = ("seq", "at", "prev_hash", "hash")
# The order of `record`'s positional values.
_EVENT_FIELDS = (
    "id",
    "seq",
    "at",
    "actor_id",
    "actor_label",
    "action",
    "target_type",
    "target_id",
    "ip",
    "data",
    "key_id",
    "prev_hash",
    "hash",
)
if tuple(f.attname for f in AuditEvent._meta.concrete_fields) != _EVENT_FIELDS:  # pragma: no cover - model changed
    raise ImproperlyConfigured("AuditEvent's fields changed: update record's positional values and _EVENT_FIELDS")

# (vendor, what) -> the text of one of the head's statements, which depends on nothing else: written once per
# process.
_HEAD_SQL = Kept(max_entries=8, max_age=float("inf"))


def _head_sql(database: Any, what: str) -> str:
    """The head's SELECT ("lock", locking the row where the database locks rows) or its UPDATE ("move")."""

    def write() -> str:
        table = database.ops.quote_name(AuditHead._meta.db_table)
        if what == "lock":
            lock = " FOR UPDATE" if database.features.has_select_for_update else ""
            return f"SELECT seq, hash FROM {table} WHERE id = 1{lock}"  # noqa: S608
        return f"UPDATE {table} SET seq = %s, hash = %s WHERE id = 1"  # noqa: S608

    return _HEAD_SQL.get("", (database.vendor, what), write)


def _append(cursor: Any, event: AuditEvent, insert: PreparedInsert) -> None:
    """Insert the chained `event` and move the head to it (the head locked by the caller), through `cursor`. On
    PostgreSQL one statement does both."""
    move_head = _head_sql(cursor.db, "move")
    if cursor.db.vendor == "postgresql":
        cursor.execute(f"WITH head AS ({move_head}) {insert.sql}", [event.seq, event.hash, *insert.params()])
        insert.inserted(cursor)
    else:
        cursor.execute(insert.sql, insert.params())
        insert.inserted(cursor)
        cursor.execute(move_head, [event.seq, event.hash])


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


def _lock_head(cursor: Any) -> tuple[int, str]:
    """(seq, hash) of the chain's head, locked until the transaction ends (created on first use)."""
    sql = _head_sql(cursor.db, "lock")
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
    head_hash: str = GENESIS  # the hash of the last verified event: what a checkpoint records


def verify_chain(*, batch: int = 2000) -> ChainReport:
    """Walk the chain from the start. Reports the first event whose link is broken: edited content or a hash
    recomputed without the key (HMAC mismatch), a deleted row (gap in seq / prev_hash not the previous hash), an
    event keyed with a key that is not configured, or a truncated tail (head differs from the last event).
    Raises AuditKeyMissing when no key is configured."""
    keys = dict(audit_keys())
    prev_hash = GENESIS
    expected_seq = 1
    checked = 0
    for event in AuditEvent.objects.order_by("seq").iterator(chunk_size=batch):
        if event.seq != expected_seq:
            return ChainReport(False, checked, expected_seq, f"event #{expected_seq} is missing (deleted?)", prev_hash)
        if event.prev_hash != prev_hash:
            return ChainReport(
                False, checked, event.seq, f"event #{event.seq} does not link to the previous one", prev_hash
            )
        key = keys.get(event.key_id)
        if key is None:
            return ChainReport(
                False,
                checked,
                event.seq,
                f"event #{event.seq} names audit key {event.key_id!r}, which PSIRT_AUDIT_KEYS does not hold "
                "(an old key removed too early, or a forged event)",
                prev_hash,
            )
        if not hmac.compare_digest(compute_hash(prev_hash, event, key), event.hash):
            return ChainReport(
                False, checked, event.seq, f"event #{event.seq} was altered after it was written", prev_hash
            )
        prev_hash = event.hash
        expected_seq += 1
        checked += 1
    head = AuditHead.objects.filter(id=1).first()
    if head is not None and (head.seq != checked or head.hash != prev_hash):
        return ChainReport(
            False, checked, checked + 1, f"events after #{checked} are missing (truncated log)", prev_hash
        )
    return ChainReport(True, checked, head_hash=prev_hash)


@dataclass(frozen=True)
class Checkpoint:
    """A signed statement that event `seq` of the audit log had hash `hash` at time `at`."""

    seq: int
    hash: str
    at: str
    path: Path


def checkpoint_name(seq: int) -> str:
    return f"audit-checkpoint-{seq:012d}{CHECKPOINT_SUFFIX}"


def write_checkpoint(*, directory: Path | None = None) -> Checkpoint | None:
    """Verify the chain, then write its head (sequence number, hash, time), clear-signed with the team signing key,
    to `directory` (default `PSIRT_AUDIT_CHECKPOINT_DIR`). Idempotent: no new file while the head has not moved;
    None for an empty log. Raises AuditChainBroken rather than sign the head of a broken chain, and
    SigningUnavailable without a signing key."""
    report = verify_chain()
    if not report.ok:
        raise AuditChainBroken(
            _("The audit log is broken at event #%(seq)s: no checkpoint is signed for it.")
            % {"seq": report.first_bad_seq}
        )
    if report.checked == 0:
        return None
    folder = Path(directory or settings.PSIRT_AUDIT_CHECKPOINT_DIR)
    path = folder / checkpoint_name(report.checked)
    key = signing_key()
    if path.exists():
        # Already checkpointed: the file stays as it is (a checkpoint is never rewritten, not even a damaged one:
        # that is evidence for `verify_checkpoints`).
        existing = read_checkpoint(path, [key.public_key])
        return existing if isinstance(existing, Checkpoint) else Checkpoint(report.checked, report.head_hash, "", path)
    at = timezone.now().isoformat()
    body = json.dumps(
        {
            "type": CHECKPOINT_TYPE,
            "seq": report.checked,
            "hash": report.head_hash,
            "at": at,
            "signing_key": key.fingerprint,
        },
        sort_keys=True,
        indent=1,
    )
    signed = key.clear_sign(body + "\n")
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    # Written under a temporary name and renamed: a reader never sees half a checkpoint.
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(signed)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return Checkpoint(report.checked, report.head_hash, at, path)


class AuditChainBroken(DomainError):
    """The chain does not verify; nothing may vouch for it."""

    status = 409


def read_checkpoint(path: Path, public_keys: list[str]) -> Checkpoint | str:
    """The checkpoint in `path` if its signature by one of `public_keys` holds and its content is a checkpoint;
    otherwise a sentence saying what is wrong with the file."""
    try:
        if path.stat().st_size > MAX_CHECKPOINT_BYTES:
            return f"checkpoint {path.name} is too large to be a checkpoint"
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return f"checkpoint {path.name} cannot be read ({exc})"
    signed = next((t for t in (verify_clearsigned(text, key) for key in public_keys) if t is not None), None)
    if signed is None:
        return f"checkpoint {path.name} is not validly signed by the team signing key (forged or edited)"
    try:
        content = json.loads(signed)
        if not isinstance(content, dict) or content.get("type") != CHECKPOINT_TYPE:
            raise ValueError("not a checkpoint")
        seq, head_hash, at = content["seq"], content["hash"], content["at"]
        if type(seq) is not int or seq < 1 or not isinstance(head_hash, str) or not isinstance(at, str):
            raise ValueError("bad fields")
    except (ValueError, KeyError):
        return f"checkpoint {path.name} is signed but is not an audit checkpoint"
    return Checkpoint(seq, head_hash, at, path)


@dataclass(frozen=True)
class CheckpointReport:
    ok: bool
    checked: int
    latest_seq: int = 0
    problem: str = ""


def verify_checkpoints(*, directory: Path, public_keys: list[str] | None = None) -> CheckpointReport:
    """Prove that no checkpointed event was removed or changed: every checkpoint file in `directory` must carry a
    valid signature (by `public_keys`, default the configured signing key) and name an event that exists with
    exactly the checkpointed hash. Together with `verify_chain` (each hash commits to every earlier event) this
    covers every event up to the latest checkpoint, even against someone who holds the audit key. An empty or
    missing folder fails: the operator asked for a proof that nothing was removed, and there is none."""
    keys = public_keys if public_keys is not None else [signing_key().public_key]
    try:
        files = sorted(p for p in Path(directory).iterdir() if p.name.endswith(CHECKPOINT_SUFFIX) and p.is_file())
    except OSError as exc:
        return CheckpointReport(False, 0, problem=f"the checkpoint folder {directory} cannot be read ({exc.strerror})")
    if not files:
        return CheckpointReport(False, 0, problem=f"no checkpoint (*{CHECKPOINT_SUFFIX}) in {directory}")
    checked, latest = 0, 0
    for path in files:
        checkpoint = read_checkpoint(path, keys)
        if isinstance(checkpoint, str):
            return CheckpointReport(False, checked, latest, checkpoint)
        stored = AuditEvent.objects.filter(seq=checkpoint.seq).values_list("hash", flat=True).first()
        if stored is None:
            return CheckpointReport(
                False,
                checked,
                latest,
                f"event #{checkpoint.seq}, checkpointed at {checkpoint.at} in {path.name}, is missing "
                "(events deleted or the log truncated)",
            )
        if not hmac.compare_digest(stored, checkpoint.hash):
            return CheckpointReport(
                False,
                checked,
                latest,
                f"event #{checkpoint.seq} no longer has the hash checkpointed at {checkpoint.at} in {path.name} "
                "(it or an earlier event was rewritten)",
            )
        checked += 1
        latest = max(latest, checkpoint.seq)
    return CheckpointReport(True, checked, latest)

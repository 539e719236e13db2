"""Key the audit chain: every existing event is checked under the old, unkeyed SHA-256 chain, then re-hashed with
HMAC-SHA256 under the first key of PSIRT_AUDIT_KEYS, in one transaction. A chain that is already broken is not
re-keyed (that would launder the tampering): the migration stops and names the first broken event."""

import base64
import hashlib
import hmac
import json

from django.conf import settings
from django.db import migrations, models

GENESIS = "0" * 64


def _canonical(event, *, with_key_id):
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
    if with_key_id:
        payload["key_id"] = event.key_id
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def rekey(apps, schema_editor):
    AuditEvent = apps.get_model("audit", "AuditEvent")
    AuditHead = apps.get_model("audit", "AuditHead")
    if not AuditEvent.objects.exists():
        return
    keys = tuple(getattr(settings, "PSIRT_AUDIT_KEYS", ()) or ())
    if not keys:
        raise RuntimeError("PSIRT_AUDIT_KEYS is not set: the existing audit log cannot be keyed without it.")
    raw = base64.urlsafe_b64decode(keys[0].encode("ascii"))
    key_id = hashlib.sha256(b"psirt audit key id\n" + raw).hexdigest()[:16]
    old_prev, new_prev, expected = GENESIS, GENESIS, 1
    for event in AuditEvent.objects.order_by("seq").iterator(chunk_size=2000):
        old = hashlib.sha256(old_prev.encode("ascii") + b"\n" + _canonical(event, with_key_id=False)).hexdigest()
        if event.seq != expected or event.prev_hash != old_prev or old != event.hash:
            raise RuntimeError(
                f"The audit log is already broken at event #{expected}: it is not re-keyed. Restore it from a "
                "backup (or investigate with `psirt audit verify` on the previous release) before migrating."
            )
        old_prev = event.hash
        event.key_id = key_id
        event.prev_hash = new_prev
        message = new_prev.encode("ascii") + b"\n" + _canonical(event, with_key_id=True)
        event.hash = hmac.new(raw, message, hashlib.sha256).hexdigest()
        event.save(update_fields=["key_id", "prev_hash", "hash"])
        new_prev = event.hash
        expected += 1
    head = AuditHead.objects.filter(id=1).first()
    if head is None or head.seq != expected - 1 or head.hash != old_prev:
        raise RuntimeError(
            f"The audit log is already broken after event #{expected - 1} (truncated): it is not re-keyed."
        )
    AuditHead.objects.filter(id=1).update(hash=new_prev)


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0002_actor_protect"),
    ]

    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="key_id",
            field=models.CharField(default="", editable=False, max_length=16),
        ),
        migrations.RunPython(rekey, migrations.RunPython.noop),
    ]

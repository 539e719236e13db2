"""Notification deliveries and single mails share the one outbox of psirt.mail: every row of both old tables
is carried over (queued and failed rows keep being sent; sent and given-up rows keep the desk's history and
the fan-out's once-per-recipient key), then the old tables go."""

import json

from django.db import migrations

# Old single-mail states → outbox states. A mail claimed by a worker when the upgrade stopped it is queued
# again (at least once); a final failure is "gave up".
MAIL_STATUS = {"pending": "queued", "sending": "queued", "sent": "sent", "failed": "gave_up"}
BATCH = 2000


def carry_rows(apps, schema_editor):
    OutboxMail = apps.get_model("notify", "OutboxMail")
    Delivery = apps.get_model("notify", "Delivery")
    OutboxMessage = apps.get_model("mail", "OutboxMessage")
    rows = []

    def flush():
        OutboxMessage.objects.bulk_create(rows, ignore_conflicts=True)
        rows.clear()

    for mail in OutboxMail.objects.order_by("pk").iterator():
        status = MAIL_STATUS.get(mail.status, "queued")
        if status == "queued" and mail.attempts:
            status = "failed"  # waiting for its retry
        rows.append(
            OutboxMessage(
                public_id=mail.public_id,
                created_at=mail.created_at,
                kind="mail",
                template=mail.template,
                language=mail.language,
                to=mail.to,
                reply_to=mail.reply_to,
                context=mail.context,
                pgp_key=mail.pgp_key,
                status=status,
                attempts=mail.attempts,
                next_attempt_at=mail.send_after,
                sent_at=mail.sent_at,
                last_error=mail.last_error,
            )
        )
        if len(rows) >= BATCH:
            flush()
    for delivery in Delivery.objects.order_by("pk").iterator():
        rows.append(
            OutboxMessage(
                public_id=delivery.public_id,
                created_at=delivery.created_at,
                kind=delivery.kind,
                event=delivery.event,
                reference=delivery.advisory_ref,
                revision=delivery.revision,
                recipient_key=delivery.recipient_key,
                # A sent notice is not needed again; a pending one is what the mail or webhook will say.
                context="" if delivery.status == "sent" else json.dumps(delivery.notice),
                status="queued" if delivery.status == "sending" else delivery.status,
                attempts=delivery.attempts,
                next_attempt_at=delivery.next_attempt_at,
                give_up_at=delivery.give_up_at,
                sent_at=delivery.sent_at,
                last_error=delivery.last_error,
            )
        )
        if len(rows) >= BATCH:
            flush()
    flush()


class Migration(migrations.Migration):
    dependencies = [
        ("mail", "0001_outbox"),
        ("notify", "0003_delivery_claim_token"),
    ]

    operations = [
        migrations.RunPython(carry_rows, migrations.RunPython.noop),
        migrations.DeleteModel(name="OutboxMail"),
        migrations.DeleteModel(name="Delivery"),
        migrations.CreateModel(
            name="Delivery",
            fields=[],
            options={
                "verbose_name": "delivery",
                "verbose_name_plural": "deliveries",
                "proxy": True,
                "indexes": [],
                "constraints": [],
            },
            bases=("mail.outboxmessage",),
            managers=[],
        ),
    ]

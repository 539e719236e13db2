from __future__ import annotations

from django.apps import AppConfig
from django.http import HttpRequest


class NotifyConfig(AppConfig):
    name = "psirt.notify"
    label = "notify"
    # The outbox (psirt.mail) sends the fan-out's rows through these.
    outbox_senders = {
        "subscriber": "psirt.notify.services.fanout.send_mail",
        "customer": "psirt.notify.services.fanout.send_mail",
        "webhook": "psirt.notify.services.webhooks.send_webhook",
    }
    # The way out of these kinds, for the outbox's guard against a receiver that is down (psirt.mail.transports);
    # the mail kinds go over the worker's mail sessions.
    outbox_transports = {"webhook": "psirt.notify.services.webhooks.receiver_of"}
    # Called with a claimed batch's rows of these kinds before sending: their recipients (webhooks) in one query.
    outbox_preparers = {
        "subscriber": "psirt.notify.services.fanout.load_recipients",
        "customer": "psirt.notify.services.fanout.load_recipients",
        "webhook": "psirt.notify.services.webhooks.load_webhooks",
    }

    def ready(self) -> None:
        # Imported here: models (and the services that import them) load only once the app registry is ready.
        from psirt.accounts.models import User
        from psirt.advisories.models import Advisory
        from psirt.advisories.signals import advisory_published
        from psirt.notify.services import notify_advisory

        def fan_out(
            *,
            advisory: Advisory,
            revision: int,
            actor: User | None,
            request: HttpRequest | None = None,
            **kwargs: object,
        ) -> None:
            """Queue the notifications of a publication or announced revision in the publishing transaction."""
            notify_advisory(advisory=advisory, revision=revision, significant=True, actor=actor, request=request)

        advisory_published.connect(fan_out, sender=None, weak=False, dispatch_uid="psirt.notify.fan_out")

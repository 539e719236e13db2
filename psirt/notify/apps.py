from typing import Any

from django.apps import AppConfig


class NotifyConfig(AppConfig):
    name = "psirt.notify"
    label = "notify"
    # The outbox (psirt.mail) sends the fan-out's rows through these.
    outbox_senders = {
        "subscriber": "psirt.notify.services.fanout.send_mail",
        "customer": "psirt.notify.services.fanout.send_mail",
        "webhook": "psirt.notify.services.webhooks.send_webhook",
    }

    def ready(self) -> None:
        # Imported here: the services import models, which the app registry allows only once apps are ready.
        from psirt.advisories.signals import advisory_published
        from psirt.notify.services import notify_advisory

        def fan_out(*, advisory: Any, revision: int, actor: Any, request: Any = None, **kwargs: Any) -> None:
            """Queue the notifications of a publication or announced revision in the publishing transaction."""
            notify_advisory(advisory=advisory, revision=revision, significant=True, actor=actor, request=request)

        advisory_published.connect(fan_out, sender=None, weak=False, dispatch_uid="psirt.notify.fan_out")

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

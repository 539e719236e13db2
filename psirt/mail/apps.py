from django.apps import AppConfig


class MailConfig(AppConfig):
    name = "psirt.mail"
    label = "mail"
    verbose_name = "Mail"
    # Outbox rows of kind "mail" are single templated mails, sent by psirt.mail.services.send_single.
    outbox_senders = {"mail": "psirt.mail.services.send_single"}

from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "psirt.intake"
    label = "intake"

    def ready(self) -> None:
        from psirt.lib import stored_files

        # The report's attachments and the files of a stash live in the encrypted file store.
        stored_files.register("intake.Attachment", "storage_name")
        stored_files.register("intake.StashedFile", "storage_name", transient=True)

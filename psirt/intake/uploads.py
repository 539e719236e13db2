"""The upload handler every request's files go through: nothing a visitor uploads is ever written to disk in
plaintext, and nothing beyond the size limit is written at all.

Django's default keeps a small request in memory and spools a larger file unencrypted to the system temporary
folder, where it stays if the worker is killed. `EncryptingUploadHandler` replaces the spooling step: each file
is encrypted as its pieces arrive, into a private `.tmp-upload-*` file under `PSIRT_SHARED_DIR/files/spool` (the
store's own chunked format, `psirt.lib.crypto.EncryptedSpool`), and read back decrypted by the view. The spool is
removed when the request ends; one left by a killed process is removed by `EncryptedFileStore.sweep_partial`
(at start-up and hourly, see `psirt.intake.services.attachments.sweep_files`).

A file over `PSIRT_MAX_ATTACHMENT_MB`, or a request whose files together pass `PSIRT_MAX_ATTACHMENTS_TOTAL_MB`,
stops being written the moment it crosses the limit: the rest is counted, not kept, and the upload arrives with
its true size and no content, so `write_files` refuses it with the usual message.
"""

from __future__ import annotations

from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler

from psirt.intake.services.attachments import max_file_bytes, max_total_bytes
from psirt.lib.crypto import EncryptedSpool, file_store


class UploadOverLimit(ValueError):
    """The content of an upload that was over a size limit was not kept: check `size` before reading."""


class EncryptedUploadedFile(UploadedFile):
    """An upload kept encrypted on disk; reading it (`read`, `chunks`) decrypts piece by piece. `size` is the
    number of bytes the client sent, even when the file was over the limit and its content was dropped."""

    def __init__(
        self,
        spool: EncryptedSpool | None,
        *,
        name: str,
        content_type: str,
        size: int,
        charset: str | None,
        **extra: Any,
    ) -> None:
        self.spool = spool
        self.over_limit = spool is None
        file = spool.reader() if spool is not None else None
        super().__init__(file, name, content_type, size, charset, extra.get("content_type_extra"))

    def multiple_chunks(self, chunk_size: int | None = None) -> bool:
        return True

    def chunks(self, chunk_size: int | None = None) -> Any:
        return self._spool().open()

    def read(self, *args: Any) -> bytes:
        self._spool()
        assert self.file is not None
        data: bytes = self.file.read(*args)
        return data

    def _spool(self) -> EncryptedSpool:
        # Reading what was dropped must fail loudly, never look like an empty file.
        if self.spool is None:
            raise UploadOverLimit(
                f"{self.name!r} ({self.size} bytes) was over the size limit; its content was not kept."
            )
        return self.spool

    def open(self, mode: str | None = None, *args: Any, **kwargs: Any) -> EncryptedUploadedFile:
        if self.spool is not None:
            self.file = self.spool.reader()
        return self

    def close(self) -> None:
        """Closing (Django closes every upload when the response is done) removes the encrypted spool."""
        try:
            if self.file is not None:
                self.file.close()
        finally:
            if self.spool is not None:
                self.spool.discard()


class EncryptingUploadHandler(FileUploadHandler):
    """Encrypts each uploaded file as it is received and stops writing at the size limits (see the module)."""

    def __init__(self, request: Any = None) -> None:
        super().__init__(request)
        self.total = 0
        self.spool: EncryptedSpool | None = None
        self.size = 0

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        self.size = 0
        self.spool = file_store().spool()

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        self.size += len(raw_data)
        self.total += len(raw_data)
        if self.spool is not None and (self.size > max_file_bytes() or self.total > max_total_bytes()):
            # Over a limit: drop what was kept and keep nothing more; the true size still reaches the form.
            self.spool.discard()
            self.spool = None
        if self.spool is not None:
            self.spool.write(raw_data)
        return None

    def file_complete(self, file_size: int) -> EncryptedUploadedFile:
        spool, self.spool = self.spool, None
        if spool is not None:
            spool.finish()
        return EncryptedUploadedFile(
            spool,
            name=self.file_name or "",
            content_type=self.content_type or "application/octet-stream",
            size=self.size,
            charset=self.charset,
            content_type_extra=self.content_type_extra,
        )

    def upload_interrupted(self) -> None:
        if self.spool is not None:
            self.spool.discard()
            self.spool = None

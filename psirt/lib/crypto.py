"""Encryption at rest: report texts in the database and attachments on disk.

Keys come from `settings.PSIRT_ENCRYPTION_KEYS` (Fernet keys). The first key encrypts; every key decrypts,
so an operator rotates by putting a new key first, running `psirt rotatekeys` (which re-encrypts everything
with the first key), then dropping the old one.

- `encrypt_text` / `decrypt_text` and the model field `EncryptedTextField` keep text columns unreadable
  without the key. Values are non-deterministic, so such columns cannot be searched; look-ups use a keyed
  hash instead (`keyed_hash`).
- `EncryptedFileStore` keeps files under `PSIRT_VAR_DIR/files` as a sequence of Fernet tokens, one per
  chunk, each carrying its chunk number and a last-chunk flag so chunks can be neither reordered nor cut off
  unnoticed. Files are read and written chunk by chunk: a 25 MB attachment never sits in memory whole.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import struct
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import IO, Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.apps import apps
from django.conf import settings
from django.db import models, transaction

__all__ = [
    "DecryptionError",
    "EncryptedFileStore",
    "EncryptedTextField",
    "decrypt_bytes",
    "decrypt_text",
    "encrypt_bytes",
    "encrypt_text",
    "encrypted_columns",
    "file_store",
    "keyed_hash",
    "rotate_all",
    "seal",
]

FILE_MAGIC = b"PSIRTENC1\n"
CHUNK_SIZE = 1024 * 1024
_HEADER = struct.Struct(">QB")  # chunk number, last-chunk flag
_LEN = struct.Struct(">I")


class DecryptionError(Exception):
    """Stored data cannot be decrypted with any configured key (wrong key, or the data was altered)."""


@lru_cache(maxsize=4)
def _multifernet(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise DecryptionError("PSIRT_ENCRYPTION_KEYS is empty: no key to encrypt or decrypt with.")
    return MultiFernet([Fernet(k.encode("ascii")) for k in keys])


def fernet() -> MultiFernet:
    """The MultiFernet for the configured keys (cached per key tuple, so settings overrides take effect)."""
    return _multifernet(tuple(settings.PSIRT_ENCRYPTION_KEYS))


def encrypt_bytes(data: bytes) -> bytes:
    return fernet().encrypt(data)


def decrypt_bytes(token: bytes) -> bytes:
    try:
        return fernet().decrypt(token)
    except InvalidToken as exc:
        raise DecryptionError("Data cannot be decrypted with the configured keys.") from exc


def encrypt_text(value: str) -> str:
    """Fernet token (ASCII) of the UTF-8 text. The empty string stays empty (nothing to hide)."""
    if value == "":
        return ""
    return encrypt_bytes(value.encode("utf-8")).decode("ascii")


def decrypt_text(value: str) -> str:
    if value == "":
        return ""
    return decrypt_bytes(value.encode("ascii")).decode("utf-8")


class SealedText(str):
    """A str that already carries its Fernet token: `EncryptedTextField` stores the token as is.

    Lets a service encrypt a row's texts before it opens its write transaction (on SQLite every write
    transaction waits for the one before it, so CPU work inside one holds up every other writer). To Python
    it is the plain text; only the database sees the token."""

    token: str

    def __new__(cls, value: str) -> SealedText:
        sealed = super().__new__(cls, value)
        sealed.token = encrypt_text(value)
        return sealed


def seal(value: str) -> str:
    """`value` with its ciphertext computed now (see SealedText)."""
    return SealedText(value)


def _hash_key(purpose: str) -> bytes:
    # Derived from SECRET_KEY, separate per purpose, so a hash made for one use is useless for another.
    return hashlib.sha256(b"psirt-keyed-hash\0" + purpose.encode() + b"\0" + settings.SECRET_KEY.encode()).digest()


def keyed_hash(value: str, *, purpose: str) -> str:
    """HMAC-SHA256 (hex) of `value`: lets us find rows by a secret value (an e-mail address, an IP) without
    storing it. Without SECRET_KEY the hash cannot be tested against guesses."""
    return hmac.new(_hash_key(purpose), value.encode("utf-8"), hashlib.sha256).hexdigest()


class EncryptedTextField(models.TextField):  # type: ignore[type-arg]
    """A text column stored as a Fernet token. Python sees plain `str`; the database only ciphertext.

    Cannot be filtered or ordered on (each encryption differs). A value that fails to decrypt raises
    `DecryptionError` rather than showing ciphertext as if it were text."""

    description = "Text encrypted at rest"

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        if value is None:
            return None
        return decrypt_text(value)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None:
            return None
        if type(value) is SealedText:
            return value.token
        return encrypt_text(str(value))

    def get_db_prep_save(self, value: Any, connection: Any) -> Any:
        return self.get_prep_value(value)


@dataclass(frozen=True)
class StoredFile:
    """What `EncryptedFileStore.save` wrote: its storage name and the plaintext size and SHA-256."""

    name: str
    size: int
    sha256: str


class EncryptedFileStore:
    """Encrypted files in one folder, named by random tokens (the original name is kept, encrypted, by
    the caller). Writes go to a temporary file first and are renamed into place, so a crash never leaves a
    half-written file under a real name."""

    def __init__(self, root: Path | None = None) -> None:
        self._root = root
        self._made: set[Path] = set()

    @property
    def root(self) -> Path:
        return Path(self._root or Path(settings.PSIRT_VAR_DIR) / "files")

    def _path(self, name: str) -> Path:
        # Names are ours (token + fixed suffix); anything else is refused, never resolved against the disk.
        if not name or "/" in name or "\\" in name or name.startswith(".") or "\0" in name:
            raise ValueError("bad storage name")
        parts = name.split("-", 1)
        return self.root / parts[0][:2] / name

    def save(self, chunks: Iterable[bytes], *, prefix: str = "f") -> StoredFile:
        """Encrypt `chunks` (any sizes) to a new file; returns its name, plaintext size and SHA-256."""
        name = f"{secrets.token_hex(16)}-{prefix}.enc"
        path = self._path(name)
        if path.parent not in self._made:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            self._made.add(path.parent)
        digest = hashlib.sha256()
        size = 0
        try:
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        except FileNotFoundError:  # the folder went away since we made it (cleaned up by hand, tests)
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        with _replacing(path, fd, tmp) as out:
            out.write(FILE_MAGIC)
            for index, chunk, last in _rechunk(chunks):
                digest.update(chunk)
                size += len(chunk)
                token = encrypt_bytes(_HEADER.pack(index, 1 if last else 0) + chunk)
                out.write(_LEN.pack(len(token)))
                out.write(token)
        return StoredFile(name=name, size=size, sha256=digest.hexdigest())

    def open(self, name: str) -> Iterator[bytes]:
        """Yield the decrypted chunks. Raises DecryptionError if the file was altered, reordered or cut."""
        with self._path(name).open("rb") as fh:
            yield from _read_chunks(fh)

    def read(self, name: str) -> bytes:
        return b"".join(self.open(name))

    def exists(self, name: str) -> bool:
        try:
            return self._path(name).is_file()
        except ValueError:
            return False

    def delete(self, name: str) -> None:
        try:
            self._path(name).unlink(missing_ok=True)
        except ValueError:
            return

    def rotate(self, name: str) -> None:
        """Re-encrypt a file with the first key (after a key rotation)."""
        path = self._path(name)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        with _replacing(path, fd, tmp) as out, path.open("rb") as src:
            if src.read(len(FILE_MAGIC)) != FILE_MAGIC:
                raise DecryptionError("Not an encrypted psirt file.")
            out.write(FILE_MAGIC)
            while True:
                head = src.read(_LEN.size)
                if not head:
                    break
                (length,) = _LEN.unpack(head)
                token = src.read(length)
                try:
                    new = fernet().rotate(token)
                except InvalidToken as exc:
                    raise DecryptionError("A file chunk cannot be decrypted with the configured keys.") from exc
                out.write(_LEN.pack(len(new)))
                out.write(new)


@contextmanager
def _replacing(path: Path, fd: int, tmp: str) -> Iterator[IO[bytes]]:
    """Write the new content of `path` into the temporary file `tmp` (open as `fd`, in the same folder): once
    written it is flushed to disk, made private (0600) and moved over `path` in one atomic step; if anything
    fails it is removed, so `path` is never seen half written."""
    try:
        with os.fdopen(fd, "wb") as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _rechunk(chunks: Iterable[bytes]) -> Iterator[tuple[int, bytes, bool]]:
    """Regroup arbitrary chunks into CHUNK_SIZE pieces, flagging the last (an empty file is one empty chunk)."""
    buffer = b""
    index = 0
    pending: bytes | None = None
    for chunk in chunks:
        buffer += chunk
        while len(buffer) >= CHUNK_SIZE:
            if pending is not None:
                yield index, pending, False
                index += 1
            pending, buffer = buffer[:CHUNK_SIZE], buffer[CHUNK_SIZE:]
    if buffer or pending is None:
        if pending is not None:
            yield index, pending, False
            index += 1
        yield index, buffer, True
    else:
        yield index, pending, True


def _read_chunks(fh: IO[bytes]) -> Iterator[bytes]:
    if fh.read(len(FILE_MAGIC)) != FILE_MAGIC:
        raise DecryptionError("Not an encrypted psirt file.")
    expected = 0
    while True:
        head = fh.read(_LEN.size)
        if not head:
            raise DecryptionError("The encrypted file is truncated.")
        (length,) = _LEN.unpack(head)
        plain = decrypt_bytes(fh.read(length))
        index, last = _HEADER.unpack(plain[: _HEADER.size])
        if index != expected:
            raise DecryptionError("The encrypted file's chunks are out of order.")
        yield plain[_HEADER.size :]
        if last:
            if fh.read(1):
                raise DecryptionError("The encrypted file has data after its last chunk.")
            return
        expected += 1


_stores: dict[str, EncryptedFileStore] = {}


def file_store() -> EncryptedFileStore:
    """The attachment store under `PSIRT_VAR_DIR/files` (one per folder and process)."""
    root = str(Path(settings.PSIRT_VAR_DIR) / "files")
    store = _stores.get(root)
    if store is None:
        store = _stores[root] = EncryptedFileStore(Path(root))
    return store


@dataclass
class RotationReport:
    rows: int = 0
    files: int = 0


def encrypted_columns() -> list[tuple[type[models.Model], str]]:
    """Every (model, field name) of an `EncryptedTextField` in the installed apps."""
    return [
        (model, field.name)
        for model in apps.get_models()
        for field in model._meta.concrete_fields
        if isinstance(field, EncryptedTextField)
    ]


def rotate_all(*, file_fields: Iterable[tuple[type[models.Model], str]] = ()) -> RotationReport:
    """Re-encrypt every `EncryptedTextField` value of every model, and every stored file named by the given
    (model, field-holding-storage-name) pairs, with the first key. Safe to run twice; run it after putting a
    new key first in PSIRT_ENCRYPTION_KEYS, then remove the old key."""
    report = RotationReport()
    columns: dict[type[models.Model], list[str]] = {}
    for model, name in encrypted_columns():
        columns.setdefault(model, []).append(name)
    for model, fields in columns.items():
        for pk in model._default_manager.values_list("pk", flat=True).iterator():
            with transaction.atomic():
                obj = model._default_manager.select_for_update().filter(pk=pk).first()
                if obj is None:
                    continue
                # Loading decrypts with any key; saving encrypts with the first one.
                obj.save(update_fields=fields)
                report.rows += 1
    store = file_store()
    for model, field in file_fields:
        for name in model._default_manager.exclude(**{field: ""}).values_list(field, flat=True).iterator():
            if store.exists(name):
                store.rotate(name)
                report.files += 1
    return report

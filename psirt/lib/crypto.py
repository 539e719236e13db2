"""Encryption at rest: report texts in the database and attachments on disk.

Keys come from `settings.PSIRT_ENCRYPTION_KEYS` (Fernet keys). The first key encrypts; every key decrypts,
so an operator rotates by putting a new key first, running `psirt rotatekeys` (which re-encrypts everything
with the first key), then dropping the old one.

- `encrypt_text` / `decrypt_text` and the model field `EncryptedTextField` keep text columns unreadable
  without the key. Values are non-deterministic, so such columns cannot be searched; look-ups use a keyed
  hash instead (`keyed_hash`).
- `EncryptedFileStore` keeps files under `PSIRT_SHARED_DIR/files` as a random file id followed by a sequence of
  Fernet tokens, one per chunk, each carrying the file's id, its chunk number and a last-chunk flag, so chunks can
  be neither reordered, cut off, nor taken from another file unnoticed. Files are read and written chunk by
  chunk: a 25 MB attachment never sits in memory whole. Files of the first format (no file id) are still read,
  and key rotation rewrites them in the current one.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import hmac
import io
import os
import secrets
import struct
import tempfile
import time
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

from psirt.lib.paths import shared_dir

__all__ = [
    "DecryptionError",
    "EncryptedFileStore",
    "EncryptedSpool",
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

FILE_MAGIC = b"PSIRTENC2\n"  # the format written
FILE_MAGIC_V1 = b"PSIRTENC1\n"  # the first format: read, and rewritten by key rotation
FILE_ID_SIZE = 16
FILE_HEADER_SIZE = len(FILE_MAGIC) + FILE_ID_SIZE  # the magic and the file's random id, in clear
CHUNK_SIZE = 1024 * 1024
_HEADER = struct.Struct(">16sQB")  # inside each token: the file's id, chunk number, last-chunk flag
_HEADER_V1 = struct.Struct(">QB")  # the first format: chunk number, last-chunk flag
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


def sealed_token(value: SealedText) -> str:
    """What a column of an `EncryptedTextField` stores for a sealed text: the token it carries."""
    return value.token


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
            return sealed_token(value)
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
        return Path(self._root or shared_dir() / "files")

    def _path(self, name: str) -> Path:
        # Names are ours (token + fixed suffix); anything else is refused, never resolved against the disk.
        if not name or "/" in name or "\\" in name or name.startswith(".") or "\0" in name:
            raise ValueError("bad storage name")
        parts = name.split("-", 1)
        return self.root / parts[0][:2] / name

    def _mkstemp(self, folder: Path, prefix: str = ".tmp-") -> tuple[int, str]:
        if folder not in self._made:
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            self._made.add(folder)
        try:
            return tempfile.mkstemp(dir=folder, prefix=prefix)
        except FileNotFoundError:  # the folder went away since we made it (cleaned up by hand, tests)
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            return tempfile.mkstemp(dir=folder, prefix=prefix)

    def save(self, chunks: Iterable[bytes], *, prefix: str = "f") -> StoredFile:
        """Encrypt `chunks` (any sizes) to a new file; returns its name, plaintext size and SHA-256."""
        name = f"{secrets.token_hex(16)}-{prefix}.enc"
        path = self._path(name)
        fd, tmp = self._mkstemp(path.parent)
        with _replacing(path, fd, tmp) as out:
            writer = _ChunkWriter(out)
            for chunk in chunks:
                writer.write(chunk)
            writer.finish()
        return StoredFile(name=name, size=writer.size, sha256=writer.digest.hexdigest())

    def spool(self) -> EncryptedSpool:
        """A private temporary file (`spool/.tmp-upload-*`) that encrypts what is written to it, in the same
        chunked format as stored files; for data arriving piece by piece, such as an upload being received."""
        fd, tmp = self._mkstemp(self.root / "spool", prefix=".tmp-upload-")
        return EncryptedSpool(Path(tmp), os.fdopen(fd, "wb"))

    def sweep_partial(self, *, older_than: dt.timedelta, now: float | None = None) -> int:
        """Remove temporary files (`.tmp-*`: half-written files and upload spools) that nobody has written to
        for `older_than`: left behind by a process that was killed or timed out. They hold only ciphertext, but
        nothing ever reads them again. Returns how many went."""
        limit = (time.time() if now is None else now) - older_than.total_seconds()
        removed = 0
        if not self.root.is_dir():
            return 0
        for path in self.root.rglob(".tmp-*"):
            try:
                if path.is_file() and path.stat().st_mtime < limit:
                    path.unlink()
                    removed += 1
            except FileNotFoundError:  # another process swept it first
                continue
        return removed

    def stored_names(self, *, older_than: dt.timedelta, now: float | None = None) -> Iterator[str]:
        """Names of the stored files not modified for `older_than` (for finding files no row refers to)."""
        limit = (time.time() if now is None else now) - older_than.total_seconds()
        if not self.root.is_dir():
            return
        for folder in self.root.iterdir():
            if not folder.is_dir() or folder.name == "spool" or folder.name.startswith("."):
                continue
            for path in folder.glob("*.enc"):
                try:
                    if path.stat().st_mtime < limit:
                        yield path.name
                except FileNotFoundError:
                    continue

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
        """Re-encrypt a file with the first key (after a key rotation), in the current format. The file is read
        and checked whole on the way: an altered file is refused and left as it was."""
        path = self._path(name)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        with _replacing(path, fd, tmp) as out, path.open("rb") as src:
            writer = _ChunkWriter(out)
            for chunk in _read_chunks(src):
                writer.write(chunk)
            writer.finish()


class _ChunkWriter:
    """Writes the chunked format to `out` as data arrives: whole CHUNK_SIZE pieces are encrypted as soon as it is
    known that more follows, so at most one piece of plaintext is ever held, and only in memory."""

    def __init__(self, out: IO[bytes]) -> None:
        self.out = out
        self.buffer = bytearray()
        self.index = 0
        self.size = 0
        self.digest = hashlib.sha256()
        self.file_id = secrets.token_bytes(FILE_ID_SIZE)
        self.out.write(FILE_MAGIC + self.file_id)

    def _emit(self, piece: bytes, *, last: bool) -> None:
        token = encrypt_bytes(_HEADER.pack(self.file_id, self.index, 1 if last else 0) + piece)
        self.out.write(_LEN.pack(len(token)))
        self.out.write(token)
        self.index += 1

    def write(self, data: bytes) -> None:
        self.digest.update(data)
        self.size += len(data)
        self.buffer += data
        while len(self.buffer) > CHUNK_SIZE:
            self._emit(bytes(self.buffer[:CHUNK_SIZE]), last=False)
            del self.buffer[:CHUNK_SIZE]

    def finish(self) -> None:
        """The last chunk (an empty file is one empty chunk)."""
        self._emit(bytes(self.buffer), last=True)
        self.buffer.clear()


class EncryptedSpool:
    """A temporary encrypted file being written piece by piece (see `EncryptedFileStore.spool`). `write` what
    arrives, `finish` once it is complete, then read it back with `open`/`reader`; `discard` removes it. What
    reaches the disk is ciphertext from the first byte: a process killed mid-way leaves only an encrypted
    `.tmp-upload-*` file, which `sweep_partial` removes later."""

    def __init__(self, path: Path, out: IO[bytes]) -> None:
        self.path = path
        self._out: IO[bytes] | None = out
        self._writer = _ChunkWriter(out)

    @property
    def size(self) -> int:
        return self._writer.size

    def write(self, data: bytes) -> None:
        if self._out is None:
            raise ValueError("the spool is closed")
        self._writer.write(data)

    def finish(self) -> None:
        if self._out is None:
            raise ValueError("the spool is closed")
        self._writer.finish()
        self._out.close()
        self._out = None

    def open(self) -> Iterator[bytes]:
        """The decrypted chunks (after `finish`)."""
        with self.path.open("rb") as fh:
            yield from _read_chunks(fh)

    def reader(self) -> io.BufferedReader:
        """A seekable binary file object over the decrypted content (after `finish`)."""
        return io.BufferedReader(_SpoolReader(self))

    def discard(self) -> None:
        if self._out is not None:
            with contextlib.suppress(OSError):
                self._out.close()
            self._out = None
        self.path.unlink(missing_ok=True)


class _SpoolReader(io.RawIOBase):
    """Read-only, seekable view of a finished spool's plaintext (seeking re-reads from the start: cheap enough
    for the rare form that rewinds an upload)."""

    def __init__(self, spool: EncryptedSpool) -> None:
        self._spool = spool
        self._restart()

    def _restart(self) -> None:
        self._chunks = self._spool.open()
        self._pending = b""
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        while not self._pending:
            try:
                self._pending = next(self._chunks)
            except StopIteration:
                return 0
        n = min(len(view), len(self._pending))
        view[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        self._pos += n
        return n

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_CUR:
            offset += self._pos
        elif whence == io.SEEK_END:
            offset += self._spool.size
        if offset < 0:
            raise ValueError("negative seek position")
        if offset < self._pos:
            self._restart()
        while self._pos < offset:
            if not self.read(min(offset - self._pos, CHUNK_SIZE)):
                break
        return self._pos


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


def _read_chunks(fh: IO[bytes]) -> Iterator[bytes]:
    magic = fh.read(len(FILE_MAGIC))
    if magic == FILE_MAGIC:
        file_id, header = fh.read(FILE_ID_SIZE), _HEADER
        if len(file_id) < FILE_ID_SIZE:
            raise DecryptionError("The encrypted file is truncated.")
    elif magic == FILE_MAGIC_V1:
        file_id, header = b"", _HEADER_V1
    else:
        raise DecryptionError("Not an encrypted psirt file.")
    expected = 0
    while True:
        head = fh.read(_LEN.size)
        if len(head) < _LEN.size:
            raise DecryptionError("The encrypted file is truncated.")
        (length,) = _LEN.unpack(head)
        plain = decrypt_bytes(fh.read(length))
        if len(plain) < header.size:
            raise DecryptionError("A file chunk has no header.")
        *owner, index, last = header.unpack(plain[: header.size])
        if owner and owner[0] != file_id:
            raise DecryptionError("A chunk of another encrypted file was put into this one.")
        if index != expected:
            raise DecryptionError("The encrypted file's chunks are out of order.")
        yield plain[header.size :]
        if last:
            if fh.read(1):
                raise DecryptionError("The encrypted file has data after its last chunk.")
            return
        expected += 1


_stores: dict[str, EncryptedFileStore] = {}


def file_store() -> EncryptedFileStore:
    """The attachment store under `files/` of the shared folder (`psirt.lib.paths.shared_dir`; one per folder and
    process)."""
    root = str(shared_dir() / "files")
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

"""Making uploaded files harmless to keep: safe names and content types taken from the bytes, not the name.

Files are never served inline (downloads are always `attachment` + `nosniff`, see `psirt.intake.views.desk`); what is
decided here is what staff are told about a file and the name it gets when saved on their machine.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import PurePosixPath

from psirt.intake.models import AttachmentKind

MAX_NAME_LENGTH = 120
# Bidi overrides and isolates (the "gpj.exe" trick), zero-width characters and BOM.
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb]")
_UNSAFE = re.compile(r"[^\w.\-+()\[\] ]", re.UNICODE)
_WINDOWS_RESERVED = {
    "con",
    "prn",
    "aux",
    "nul",
    *(f"com{i}" for i in range(1, 10)),
    *(f"lpt{i}" for i in range(1, 10)),
}


def safe_filename(raw: str | bytes | None, *, fallback: str = "attachment") -> str:
    """A file name that is safe on every operating system and in a Content-Disposition header.

    Keeps only the last path component (either slash), drops control and invisible characters (null bytes,
    bidi overrides), folds compatibility forms (full-width letters, ligatures), replaces anything else
    unusual by `_`, strips leading dots (no hidden files, no `..`), avoids Windows device names and keeps
    the extension when shortening."""
    if raw is None:
        return fallback
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", errors="replace")
    name = unicodedata.normalize("NFKC", raw)
    name = name.replace("\\", "/").split("/")[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = _INVISIBLE.sub("", name)
    name = _UNSAFE.sub("_", name)
    name = re.sub(r"\s+", " ", name).strip(" .")
    name = re.sub(r"_{2,}", "_", name)
    if not name or set(name) <= {"_", ".", " "}:
        return fallback
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    if stem.split(".")[0].lower() in _WINDOWS_RESERVED:
        name = "_" + name
    if len(name) > MAX_NAME_LENGTH:
        ext = ext[:16]
        keep = MAX_NAME_LENGTH - (len(ext) + 1 if ext else 0)
        name = (stem[:keep].rstrip(" .") or fallback) + ("." + ext if ext else "")
    return name


@dataclass(frozen=True)
class Sniffed:
    """What the bytes are: a content type for staff display, a kind, and whether the name claims otherwise."""

    content_type: str
    kind: str
    name_mismatch: bool = False


# (prefix, offset, content type, kind) — the formats reporters send: captures, images, archives, documents,
# and the ones to be wary of (executables).
_MAGIC: list[tuple[bytes, int, str, str]] = [
    (b"\xd4\xc3\xb2\xa1", 0, "application/vnd.tcpdump.pcap", AttachmentKind.CAPTURE),
    (b"\xa1\xb2\xc3\xd4", 0, "application/vnd.tcpdump.pcap", AttachmentKind.CAPTURE),
    (b"\x4d\x3c\xb2\xa1", 0, "application/vnd.tcpdump.pcap", AttachmentKind.CAPTURE),
    (b"\xa1\xb2\x3c\x4d", 0, "application/vnd.tcpdump.pcap", AttachmentKind.CAPTURE),
    (b"\x0a\x0d\x0d\x0a", 0, "application/x-pcapng", AttachmentKind.CAPTURE),
    (b"\x89PNG\r\n\x1a\n", 0, "image/png", AttachmentKind.IMAGE),
    (b"\xff\xd8\xff", 0, "image/jpeg", AttachmentKind.IMAGE),
    (b"GIF87a", 0, "image/gif", AttachmentKind.IMAGE),
    (b"GIF89a", 0, "image/gif", AttachmentKind.IMAGE),
    (b"BM", 0, "image/bmp", AttachmentKind.IMAGE),
    (b"%PDF-", 0, "application/pdf", AttachmentKind.DOCUMENT),
    (b"PK\x03\x04", 0, "application/zip", AttachmentKind.ARCHIVE),
    (b"PK\x05\x06", 0, "application/zip", AttachmentKind.ARCHIVE),
    (b"\x1f\x8b", 0, "application/gzip", AttachmentKind.ARCHIVE),
    (b"BZh", 0, "application/x-bzip2", AttachmentKind.ARCHIVE),
    (b"\xfd7zXZ\x00", 0, "application/x-xz", AttachmentKind.ARCHIVE),
    (b"7z\xbc\xaf\x27\x1c", 0, "application/x-7z-compressed", AttachmentKind.ARCHIVE),
    (b"Rar!\x1a\x07", 0, "application/vnd.rar", AttachmentKind.ARCHIVE),
    (b"\x28\xb5\x2f\xfd", 0, "application/zstd", AttachmentKind.ARCHIVE),
    (b"ustar", 257, "application/x-tar", AttachmentKind.ARCHIVE),
    (b"\x7fELF", 0, "application/x-executable", AttachmentKind.EXECUTABLE),
    (b"MZ", 0, "application/x-msdownload", AttachmentKind.EXECUTABLE),
    (b"\xcf\xfa\xed\xfe", 0, "application/x-mach-binary", AttachmentKind.EXECUTABLE),
    (b"\xce\xfa\xed\xfe", 0, "application/x-mach-binary", AttachmentKind.EXECUTABLE),
    (b"\xca\xfe\xba\xbe", 0, "application/x-mach-binary", AttachmentKind.EXECUTABLE),
    (b"#!", 0, "text/x-script", AttachmentKind.EXECUTABLE),
]
# RIFF containers: WebP images (anything else RIFF is "other").
_RIFF_WEBP = (b"RIFF", b"WEBP")

_EXT_KIND = {
    "pcap": AttachmentKind.CAPTURE,
    "pcapng": AttachmentKind.CAPTURE,
    "cap": AttachmentKind.CAPTURE,
    "png": AttachmentKind.IMAGE,
    "jpg": AttachmentKind.IMAGE,
    "jpeg": AttachmentKind.IMAGE,
    "gif": AttachmentKind.IMAGE,
    "bmp": AttachmentKind.IMAGE,
    "webp": AttachmentKind.IMAGE,
    "zip": AttachmentKind.ARCHIVE,
    "gz": AttachmentKind.ARCHIVE,
    "tgz": AttachmentKind.ARCHIVE,
    "tar": AttachmentKind.ARCHIVE,
    "7z": AttachmentKind.ARCHIVE,
    "rar": AttachmentKind.ARCHIVE,
    "bz2": AttachmentKind.ARCHIVE,
    "xz": AttachmentKind.ARCHIVE,
    "zst": AttachmentKind.ARCHIVE,
    "pdf": AttachmentKind.DOCUMENT,
    "txt": AttachmentKind.TEXT,
    "md": AttachmentKind.TEXT,
    "log": AttachmentKind.TEXT,
    "json": AttachmentKind.TEXT,
    "xml": AttachmentKind.TEXT,
    "csv": AttachmentKind.TEXT,
    "html": AttachmentKind.TEXT,
    "htm": AttachmentKind.TEXT,
    "svg": AttachmentKind.TEXT,
    "eml": AttachmentKind.TEXT,
    "asc": AttachmentKind.TEXT,
}

SNIFF_BYTES = 512


def sniff(head: bytes, name: str) -> Sniffed:
    """Classify a file by its first bytes (at least SNIFF_BYTES when the file is that long)."""
    content_type: str = "application/octet-stream"
    kind: str = AttachmentKind.OTHER
    for prefix, offset, ctype, k in _MAGIC:
        if head[offset : offset + len(prefix)] == prefix:
            content_type, kind = ctype, k
            break
    else:
        if head[:4] == _RIFF_WEBP[0] and head[8:12] == _RIFF_WEBP[1]:
            content_type, kind = "image/webp", AttachmentKind.IMAGE
        elif _looks_like_text(head):
            content_type, kind = "text/plain", AttachmentKind.TEXT
    ext = PurePosixPath(name.lower()).suffix.lstrip(".")
    claimed = _EXT_KIND.get(ext)
    # A name that promises something harmless while the bytes are a program is the trick to flag.
    mismatch = claimed is not None and claimed != kind and kind in {AttachmentKind.EXECUTABLE, AttachmentKind.OTHER}
    if claimed == AttachmentKind.TEXT and kind == AttachmentKind.EXECUTABLE and content_type == "text/x-script":
        mismatch = False  # a shell script named .txt is still text to read
    return Sniffed(content_type=content_type, kind=kind, name_mismatch=mismatch)


def _looks_like_text(head: bytes) -> bool:
    if not head:
        return True
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
        return True
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the end of the sample is still text.
        return exc.start >= len(head) - 3

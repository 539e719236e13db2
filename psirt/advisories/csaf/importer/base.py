"""What every part of the CSAF import shares: the result of one file, the refusal a person can act on, and the text
and date helpers that turn document values into what psirt's columns hold."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from psirt.lib.errors import DomainError

Outcome = Literal["imported", "updated", "unchanged", "refused"]
JSON = dict[str, Any]

CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def shown(text: str) -> str:
    """`text` safe for a terminal or a log line: file names and document content never drive the terminal."""
    return CONTROL_CHARS.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


@dataclass(frozen=True)
class ImportResult:
    """What happened to one file or document: imported, updated, unchanged or refused (with the reasons)."""

    source: str
    outcome: Outcome
    advisory_id: str = ""
    messages: tuple[str, ...] = ()

    @property
    def line(self) -> str:
        head = f"{shown(self.source)}: {self.outcome}"
        if self.advisory_id:
            head += f" {shown(self.advisory_id)}"
        if self.messages:
            head += " — " + "; ".join(shown(m) for m in self.messages)
        return head


class Refused(DomainError):
    """The document is not imported; `messages` say why, each one a person can act on."""

    status = 422

    def __init__(self, *messages: str) -> None:
        super().__init__("; ".join(messages))
        self.messages = tuple(messages)


def plain_text(value: object) -> str:
    return str(value or "").replace("\r\n", "\n").replace("\x00", "").strip()


def one_line(value: object, limit: int) -> str:
    text = " ".join(str(value or "").replace("\x00", "").split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def fit_length(text: str, limit: int) -> str:
    """`text` within a column's length, still unique: a cut text ends with a hash of the whole."""
    if len(text) <= limit:
        return text
    digest = hashlib.sha256(text.encode()).hexdigest()[:8]
    return f"{text[: limit - 9]}~{digest}"


def parse_date(value: object, what: str) -> datetime:
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise Refused(f"{what} is not a date and time: {str(value)[:40]}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)

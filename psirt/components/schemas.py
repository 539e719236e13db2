"""JSON schema checks at the speed of large imports: each schema is compiled with jsonschema-rs (microseconds a
document) to decide whether a document is valid, and a document it refuses is checked again by the reference
validator (`jsonschema`), which names the problems — so both agree on what is valid and the messages people read
are the reference's. OSV records and CycloneDX SBOMs are checked this way."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # imported where a document is checked: a starting process does not pay for jsonschema
    from jsonschema import ValidationError


class _Compiled(Protocol):
    def is_valid(self, instance: Any) -> bool: ...


class _Reference(Protocol):
    def iter_errors(self, instance: Any) -> Iterator[ValidationError]: ...


def schema_errors(compiled: _Compiled, reference: _Reference, document: Any) -> Iterator[ValidationError]:
    """The reference validator's errors for `document`; none without asking it when the compiled check passes."""
    if compiled.is_valid(document):
        return iter(())
    return reference.iter_errors(document)

"""Domain exceptions of the case desk; views and the API map them to responses in one place each."""

from __future__ import annotations

from psirt.lib.errors import DomainError


class CaseError(DomainError):
    """Base of every refusal. `message` is safe to show to the person who asked; `status` is the HTTP one."""


class NotAllowed(CaseError):
    """The actor may not do this (the case itself is visible to them, or the caller checked that first)."""

    status = 403


class TransitionNotAllowed(CaseError):
    """The workflow has no such transition, or it needs a reason and none was given."""

    status = 409


class InvalidInput(CaseError):
    """A value is malformed (vector, CWE, reference, date); the message says what is expected."""

    status = 422


class ReferenceTaken(CaseError):
    """A CVE/CNVD/CNNVD ID already belongs to another case."""

    status = 409

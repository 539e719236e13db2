"""Refusals of regulatory reporting; each carries its HTTP status and a message a person can act on."""

from __future__ import annotations

from psirt.lib.errors import DomainError


class RegulatoryError(DomainError):
    """Base of every refusal of the regulatory desk."""


class NotAllowed(RegulatoryError):
    status = 403


class InvalidInput(RegulatoryError):
    status = 422


class MissingFields(RegulatoryError):
    """A required field of the stage is empty: "mark as submitted" is refused, naming the fields."""

    status = 422


class Conflict(RegulatoryError):
    """The obligation is not in a state that allows this (already decided, already submitted, ...)."""

    status = 409

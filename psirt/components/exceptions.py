"""Refusals of the components app, each with a message a person can act on."""

from __future__ import annotations

from psirt.lib.errors import DomainError


class ComponentsError(DomainError):
    status = 400


class InvalidSbom(ComponentsError):
    """The uploaded file is not a CycloneDX 1.4–1.6 or SPDX 2.3 JSON document we can read; nothing was stored."""

    status = 422


class SbomTooLarge(ComponentsError):
    status = 413


class InvalidVulnerabilityData(ComponentsError):
    status = 422


class RetentionNotOver(ComponentsError):
    """An SBOM is kept for the release's support period plus the retention years."""

    status = 409


class InvalidDecision(ComponentsError):
    status = 400


class NotAllowed(ComponentsError):
    status = 403

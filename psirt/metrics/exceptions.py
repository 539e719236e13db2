"""Domain exceptions of the metrics: mapped to responses once for HTML (the page shows the message) and once
for the API (`psirt.api.errors`)."""

from __future__ import annotations

from psirt.lib.errors import DomainError


class MetricsError(DomainError):
    """A filter or a link the metrics cannot answer (malformed date, unknown product line, a period longer than
    the page draws); the message says what to change."""

    status = 422


class NotAllowed(MetricsError):
    """Only a lead may do this."""

    status = 403

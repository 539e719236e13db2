"""Database-backed counters every app shares: the per-year number sequences."""

from __future__ import annotations

from django.db import models


class Sequence(models.Model):
    """The last number issued in one `scope` (tracking IDs, case keys, advisory IDs) for one year. The row is
    locked while numbering, so two writers never get the same number (see psirt.counters.sequences)."""

    scope = models.CharField(max_length=32)
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["scope", "year"], name="sequence_unique_scope_year")]

    def __str__(self) -> str:
        return f"{self.scope} {self.year}: {self.last}"

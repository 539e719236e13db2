"""Database-backed counters every app shares: the per-year number sequences and the rate-limit windows."""

from __future__ import annotations

from django.db import models


class Sequence(models.Model):
    """The last number issued in one `scope` (tracking IDs, case keys, advisory IDs) for one year. The row is
    locked while numbering, so two writers never get the same number (see psirt.counters.services.sequences)."""

    scope = models.CharField(max_length=32)
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["scope", "year"], name="sequence_unique_scope_year")]

    def __str__(self) -> str:
        return f"{self.scope} {self.year}: {self.last}"


class RateCounter(models.Model):
    """Hits per key per fixed window, shared by every process through the database. `key` is a keyed hash
    of scope + counted value: the table never holds an address or e-mail (see psirt.counters.services.ratelimit)."""

    key = models.CharField(max_length=64)
    window_start = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["key", "window_start"], name="counters_rate_unique_window")]

    def __str__(self) -> str:
        return f"{self.key[:8]}… {self.count}"

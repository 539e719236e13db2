"""Signals of the components app. `vex_decided(vulnerability=…)` is sent after the transaction that recorded
decisions has committed, so apps above (the CSAF provider tree in advisories) can republish the VEX document of
that vulnerability without components knowing them."""

from __future__ import annotations

from django.dispatch import Signal

vex_decided = Signal()

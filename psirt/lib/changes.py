"""Applying a service's keyword changes to a model instance, limited to the fields the service may edit."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def apply_changes(obj: object, changes: Mapping[str, Any], allowed: frozenset[str]) -> list[str]:
    """Set each changed attribute of `obj` and return the names that changed, sorted.

    A name outside `allowed` is a programming error (TypeError): services never take arbitrary fields."""
    unknown = set(changes) - allowed
    if unknown:
        raise TypeError(f"unknown field(s) for {type(obj).__name__}: {', '.join(sorted(unknown))}")
    changed = []
    for name, value in changes.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)
            changed.append(name)
    return sorted(changed)

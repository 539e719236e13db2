"""Lists shown on the public pages that come from other apps. An empty list makes the templates say
"There is currently no information to display."

- `latest_advisories`: the advisories issue returns the newest published advisories here (home page).
- `acknowledgment_entries`: the cases/advisories issues return the credited reporters here (hall of fame).
"""

from __future__ import annotations

from typing import Any


def latest_advisories(*, limit: int = 5) -> list[Any]:
    """Newest published advisories, newest first (objects with title, advisory_id, severity, published_at and
    get_absolute_url)."""
    from psirt.advisories import queries

    return list(queries.latest_advisories(limit=limit))


def acknowledgment_entries() -> list[Any]:
    """Credited reporters, newest first (objects with name, affiliation, advisory_id and date)."""
    from psirt.advisories import queries

    return list(queries.acknowledgment_entries())

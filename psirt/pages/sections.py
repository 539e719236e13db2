"""Lists shown on the public pages whose content belongs to apps above pages: the newest advisories (home page),
the credited reporters (hall of fame), the conditions of the publication policy in force (policy page) and the
response statistics the leads chose to publish (home and policy pages).

Pages may not import those apps, so the owner registers its source at start-up (`register`, from its
`AppConfig.ready`) and pages asks through the functions below. Without a registered source a list is empty and
the templates say "There is currently no information to display."
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest


def _no_advisories(limit: int) -> Sequence[Any]:
    return ()


def _no_entries() -> Sequence[Any]:
    return ()


def _no_conditions() -> Sequence[str]:
    return ()


def _no_statistics() -> Any:
    return None


def _no_version(request: HttpRequest) -> str | None:
    return None


@dataclass
class Sources:
    """Where the lists come from: `latest(limit)`, `acknowledgments()` and `policy_conditions()`."""

    latest: Callable[[int], Sequence[Any]] = _no_advisories
    acknowledgments: Callable[[], Sequence[Any]] = _no_entries
    policy_conditions: Callable[[], Sequence[str]] = _no_conditions
    response_statistics: Callable[[], Any] = _no_statistics
    # A token that changes with every change of the public advisories and of the site generation
    # (`psirt.pages.generation`), for the page cache; None: no token, the page is not cached.
    version: Callable[[HttpRequest], str | None] = _no_version


SOURCES = Sources()


def register(
    *,
    latest: Callable[[int], Sequence[Any]],
    acknowledgments: Callable[[], Sequence[Any]],
    version: Callable[[HttpRequest], str | None] | None = None,
) -> None:
    """Install the sources of the lists (called once by the app that owns the advisories), and the token that
    changes with them (`version(request)`, asked on every request of a cached page)."""
    SOURCES.latest = latest
    SOURCES.acknowledgments = acknowledgments
    if version is not None:
        SOURCES.version = version


def register_policy_conditions(source: Callable[[], Sequence[str]]) -> None:
    """Install the source of the publication policy's conditions (called once by the app that enforces it)."""
    SOURCES.policy_conditions = source


def register_response_statistics(source: Callable[[], Any]) -> None:
    """Install the source of the public response statistics (called once by the app that computes them)."""
    SOURCES.response_statistics = source


def latest_advisories(*, limit: int = 5) -> list[Any]:
    """Newest published advisories, newest first (objects with title, advisory_id, severity, severity_label,
    published_at and get_absolute_url)."""
    return list(SOURCES.latest(limit))


def acknowledgment_entries() -> list[Any]:
    """Credited reporters, newest first (objects with name, affiliation, advisory_id and date)."""
    return list(SOURCES.acknowledgments())


def policy_conditions() -> list[str]:
    """The conditions under which advisories are published, one sentence each, in the active language, as the
    publication gate enforces them."""
    return list(SOURCES.policy_conditions())


def response_statistics() -> Any:
    """The response statistics the leads chose to publish (an object with `since`, `until`, `ack_percent`,
    `ack_days` and `fix_median_days`, a figure None when too few cases back it), or None."""
    return SOURCES.response_statistics()


def version(request: HttpRequest) -> str | None:
    """The token the lists above (but the statistics) and the site generation were last changed under, or None when
    no app provides one (see `Sources.version`)."""
    return SOURCES.version(request)

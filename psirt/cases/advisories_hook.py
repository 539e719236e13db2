"""What the case page shows of the advisories written from a case, answered by the app that owns advisories.

Cases may not import advisories (it sits above them), so the advisories app registers its answers at start-up
(`register`, from its `AppConfig.ready`) and the case page asks through `linked_advisories` and `may_write`.
Without a registered source the case page lists no advisory and offers no "Write advisory".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class LinkedAdvisory:
    """One advisory of a case as the case page lists it; `url` is empty when the viewer may not open it."""

    advisory_id: str
    title: str
    state: str
    url: str


def _none(case: Any, user: Any) -> Sequence[LinkedAdvisory]:
    return ()


def _never(case: Any, user: Any) -> bool:
    return False


@dataclass
class Sources:
    linked: Callable[[Any, Any], Sequence[LinkedAdvisory]] = _none
    may_write: Callable[[Any, Any], bool] = _never


SOURCES = Sources()


def register(*, linked: Callable[[Any, Any], Sequence[LinkedAdvisory]], may_write: Callable[[Any, Any], bool]) -> None:
    """Install the answers (called once by the app that owns advisories): `linked(case, user)` lists the
    case's advisories `user` may know of; `may_write(case, user)` says whether `user` may start one from it."""
    SOURCES.linked = linked
    SOURCES.may_write = may_write


def linked_advisories(case: Any, user: Any) -> list[LinkedAdvisory]:
    return list(SOURCES.linked(case, user))


def may_write_advisory(case: Any, user: Any) -> bool:
    return bool(SOURCES.may_write(case, user))

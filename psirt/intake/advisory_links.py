"""The advisories a reporter's portal links to once published.

The intake sits below the advisories in the layers, so it does not know them: the advisories app registers a
provider here (`register_advisory_provider`, from its AppConfig.ready) that answers "which published advisories
cover this report". Without a provider (the intake alone) the portal simply shows none.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from psirt.intake.models import Report


class PublishedAdvisory(NamedTuple):
    advisory_id: str
    title: str
    url: str


AdvisoryProvider = Callable[[Report], list[PublishedAdvisory]]
_providers: list[AdvisoryProvider] = []


def register_advisory_provider(provider: AdvisoryProvider) -> None:
    """Add a provider `provider(report) -> [PublishedAdvisory]` (titles in the active language). Idempotent."""
    if provider not in _providers:
        _providers.append(provider)


def published_advisories(report: Report) -> list[PublishedAdvisory]:
    """The published advisories covering this report, from every registered provider, each once."""
    seen: dict[str, PublishedAdvisory] = {}
    for provider in _providers:
        for item in provider(report):
            seen.setdefault(item.advisory_id, item)
    return list(seen.values())

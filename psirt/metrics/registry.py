"""Parts of the metrics page and of the case file that other apps provide.

The regulatory clocks (met or missed per obligation) and the regulatory filings of a case belong to the
regulatory app. The metrics page and the case file do not compute them: that app (or any other) registers a
provider here from its `AppConfig.ready`, and each registered provider adds its tables to the page, its CSV
files and the API, and its entries to the case file, in the order registered. Without a provider those parts
are simply absent; nothing is guessed.

A metric provider is called with the person asking (need-to-know is the provider's to apply, with
`visible_cases`), the filters and the instant; it answers tables (`psirt.metrics.tables.Table`). A case-file
section is called with the case and the person and answers entries (`psirt.metrics.casefile.Entry`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

MetricProvider = Callable[[Any, Any, Any], Sequence[Any]]
CaseFileSection = Callable[[Any, Any], Sequence[Any]]

METRIC_PROVIDERS: dict[str, MetricProvider] = {}
CASE_FILE_SECTIONS: dict[str, tuple[object, CaseFileSection]] = {}


def register_metric_provider(name: str, provider: MetricProvider) -> None:
    """Add tables to the metrics page: `provider(user, filters, now)` answers a sequence of `Table`s."""
    METRIC_PROVIDERS[name] = provider


def register_case_file_section(name: str, title: object, section: CaseFileSection) -> None:
    """Add a section to the case file: `section(case, user)` answers a sequence of `Entry`s, each with the hash
    of its audit entry when it has one."""
    CASE_FILE_SECTIONS[name] = (title, section)

"""What the public page of a firmware release shows besides the catalog's own facts, answered by apps above the
catalog (the third-party vulnerability decisions and the bill of materials belong to components).

The catalog may not import those apps, so they register a section at start-up (`register`, from their
`AppConfig.ready`) and the release page asks through `sections`. Each section renders itself as HTML for one
public release; without a registered section the page shows the catalog's facts only."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest
from django.utils.safestring import SafeString

from psirt.catalog.models import FirmwareRelease

Section = Callable[[HttpRequest, FirmwareRelease], SafeString]

_SECTIONS: dict[str, Section] = {}


def register(*, name: str, section: Section) -> None:
    """Install (or replace, by name) a section of the public release page: `section(request, release)` is called
    only for a public release of a public product and returns safe HTML ("" to show nothing)."""
    _SECTIONS[name] = section


def sections(request: HttpRequest, release: FirmwareRelease) -> list[SafeString]:
    rendered = (section(request, release) for _name, section in sorted(_SECTIONS.items()))
    return [html for html in rendered if html]

"""The regulatory panel of the case page, answered by the app that owns reporting obligations.

Cases may not import regulatory (it sits above them), so the regulatory app registers a renderer at start-up
(`register`, from its `AppConfig.ready`) and the case page asks through `regulatory_panel`. The renderer decides
who may see the panel (only leads and the case's assignees) and returns "" for everyone else. Without a registered
renderer the case page shows no panel.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest


def _nothing(case: Any, request: HttpRequest) -> str:
    return ""


@dataclass
class Source:
    panel: Callable[[Any, HttpRequest], str] = _nothing


SOURCE = Source()


def register(*, panel: Callable[[Any, HttpRequest], str]) -> None:
    """Install the renderer (called once by the app that owns reporting obligations): `panel(case, request)` is
    the panel's HTML for the viewer, or "" when they may not see it."""
    SOURCE.panel = panel


def regulatory_panel(case: Any, request: HttpRequest) -> str:
    return SOURCE.panel(case, request)

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.utils import translation


@pytest.fixture(autouse=True)
def _english_urls() -> Iterator[None]:
    """A request to /zh-hans/… leaves Chinese active in the thread; reverse() in the next test must not
    inherit it."""
    with translation.override("en"):
        yield

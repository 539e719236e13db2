"""What one rendering of a template reads from the active translation and URL configuration, read once per rendering.

The tags that keep their output per catalog, language and URL configuration (`{% translate %}` of a literal,
`{% url %}` of literals: psirt.lib.i18n_tags and psirt.lib.builtin_tags; `{% memo %}`) each asked for those on every
node: some sixty reads of asgiref's thread- and task-local storage per public page, each a lock and a context
variable lookup, for values that do not change while the page renders. They are read once, at the first such node,
and kept in the render context's dict of the outermost template's rendering (pushed by `Template.render` and popped
when it ends, so a context rendered again later reads afresh; shared by the templates it includes and extends).
Nodes rendered outside any template's rendering read afresh each time.

The rule that makes this exact: nothing switches the language, the URL configuration or the script prefix in the
middle of rendering one context, but `{% language %}`, whose project version (psirt.lib.i18n_tags) renders its body
under a snapshot of its own (`fresh`). A tag that switched them from Python and rendered nodes of the same context
inside would have to do the same.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, cast

from django.conf import settings
from django.template.context import Context
from django.urls import get_script_prefix, get_urlconf
from django.utils.translation import get_language, trans_real

KEY = "psirt.render_env"


@dataclass(frozen=True, slots=True)
class RenderEnv:
    catalog: Any  # the active translation catalog (None without translation machinery)
    language: str | None
    urlconf: str | None
    script_prefix: str


def _read() -> RenderEnv:
    return RenderEnv(
        catalog=trans_real.catalog() if settings.USE_I18N else None,
        language=get_language(),
        urlconf=get_urlconf(),
        script_prefix=get_script_prefix(),
    )


def _root(context: Context) -> dict[str, Any] | None:
    """The dict the outermost template's rendering pushed on the render context (index 0 holds its builtins)."""
    dicts = context.render_context.dicts
    return cast(dict[str, Any], dicts[1]) if len(dicts) > 1 else None


def render_env(context: Context) -> RenderEnv:
    """The active catalog, language, URL configuration and script prefix, as read at the rendering's first ask."""
    root = _root(context)
    if root is None:
        return _read()
    env: RenderEnv | None = root.get(KEY)
    if env is None:
        env = root[KEY] = _read()
    return env


@contextmanager
def fresh(context: Context) -> Iterator[None]:
    """Inside: the snapshot is read afresh (the language was just switched); after: the rendering's own again."""
    root = _root(context)
    if root is None:
        yield
        return
    saved = root.pop(KEY, None)
    try:
        yield
    finally:
        root.pop(KEY, None)
        if saved is not None:
            root[KEY] = saved

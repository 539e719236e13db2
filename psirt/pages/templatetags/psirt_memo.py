"""`{% load psirt_memo %}{% memo "name" key=value … %}…{% endmemo %}`: a part of a template rendered once per
process and key, then reused — for the site chrome (header, navigation, footer) that every page repeats and that
costs a third of a public page's rendering when done each time.

The part is a pure function of its key: it is rendered with a context that holds only the key's values (plus the
language, which is always part of the key), so it cannot read anything the key does not name — a variable left
out renders empty on the first request already, it never turns into a stale value. The key is the data itself
(the organization's name, whether the visitor is signed in, the year, …), not a version of it: an edit shows on
the very next request, in every process, without any invalidation. URLs reversed inside depend on the URL
configuration, which is fixed for a process; a settings override (tests) empties the store.

A part may not contain a `{% block %}` (a child template's override would be served to every other page) nor a
`{% csrf_token %}` (a visitor's token would be served to the next one)."""

from __future__ import annotations

import threading
from typing import Any

from django import template
from django.core.signals import setting_changed
from django.template.base import Node, NodeList, Parser, Token
from django.template.context import Context
from django.template.defaulttags import CsrfTokenNode
from django.template.loader_tags import BlockNode
from django.utils.safestring import SafeString, mark_safe

from psirt.lib.render_env import render_env

register = template.Library()

MAX_ENTRIES = 512  # per process; all are dropped when full (keys change only with the data they name)

_store: dict[tuple[Any, ...], SafeString] = {}
_store_lock = threading.Lock()


def clear(**kwargs: Any) -> None:
    with _store_lock:
        _store.clear()


setting_changed.connect(clear, dispatch_uid="psirt-memo-clear")


def _frozen(value: Any) -> Any:
    """A hashable stand-in for a key value: lists (the navigation's pairs) as tuples."""
    return tuple(_frozen(v) for v in value) if isinstance(value, list | tuple) else value


class MemoNode(Node):
    def __init__(self, name: str, keys: dict[str, Any], nodelist: NodeList) -> None:
        self.name = name
        self.keys = keys
        self.nodelist = nodelist

    def render(self, context: Context) -> SafeString:
        values = {name: value.resolve(context) for name, value in self.keys.items()}
        env = render_env(context)  # the language and URL configuration, read once per rendering
        language = env.language
        key = (self.name, language, env.urlconf, *((name, _frozen(v)) for name, v in sorted(values.items())))
        found = _store.get(key)
        if found is None:
            # Only the key's values (and the language) are visible to the part.
            isolated = Context({**values, "LANG": language}, autoescape=context.autoescape, use_l10n=context.use_l10n)
            isolated.template = context.template
            found = mark_safe(self.nodelist.render(isolated))  # noqa: S308 — rendered by the template engine
            with _store_lock:
                if len(_store) >= MAX_ENTRIES:
                    _store.clear()
                _store[key] = found
        return found


@register.tag("memo")
def do_memo(parser: Parser, token: Token) -> MemoNode:
    bits = token.split_contents()
    if len(bits) < 2 or not (bits[1][:1] == bits[1][-1:] and bits[1][:1] in "\"'"):
        raise template.TemplateSyntaxError("{% memo %} takes a quoted name, then key=value pairs")
    keys: dict[str, Any] = {}
    for bit in bits[2:]:
        name, sep, expression = bit.partition("=")
        if not sep or not name.isidentifier() or name in keys:
            raise template.TemplateSyntaxError(f"{{% memo %}}: {bit!r} is not a new key=value pair")
        keys[name] = parser.compile_filter(expression)
    nodelist = parser.parse(("endmemo",))
    parser.delete_first_token()
    if nodelist.get_nodes_by_type(BlockNode) or nodelist.get_nodes_by_type(CsrfTokenNode):
        raise template.TemplateSyntaxError("{% memo %} may not contain {% block %} or {% csrf_token %}")
    return MemoNode(bits[1][1:-1], keys, nodelist)

"""Django's built-in `{% extends %}` and `{% url %}`, added after Django's own builtins by the project's template
backend (psirt.lib.templates), so every template gets them without a `{% load %}`. They render what Django's
render; what they recompute on every rendering from fixed inputs is kept:

- `{% extends %}` collects the blocks of the root template on each rendering, walking its whole node tree (a tenth
  of a public page's shell). The blocks of a compiled template never change: they are collected once per template
  object (a template reloaded in development is a new object).
- `{% url %}` with literal arguments only (`{% url 'pages:home' %}`, `{% url 'pages:home' as home_url %}`) is a pure
  function of the URL configuration, the script prefix, the active language (the language prefix of the public
  pages) and the current application namespace: its result, a URL or a failed lookup, is kept per those. Any
  other form (a variable or a filter among its arguments) is reversed each time, as Django does.
- The `date` filter with the two formats the pages use for machines and tables, `"c"` (ISO 8601) and `"Y-m-d"`,
  writes a date or datetime directly, as Django's `DateFormat` does for those format characters (`c` is
  `isoformat()`, `Y`, `m`, `d` are the zero-padded year, month and day): Django's filter first looks the format up
  among the active language's format modules (no format module names a format `c` or `Y-m-d`) and then walks the
  format string with a regular expression, on every call. Any other format or value goes to Django's filter.
"""

from __future__ import annotations

import datetime as dt
import weakref
from typing import Any

from django import template
from django.core.signals import setting_changed
from django.template.base import Node, Parser, Template, TextNode, Token, Variable
from django.template.context import Context
from django.template.defaultfilters import date as django_date
from django.template.defaulttags import URLNode
from django.template.defaulttags import url as django_url
from django.template.loader_tags import BLOCK_CONTEXT_KEY, BlockContext, BlockNode, ExtendsNode
from django.template.loader_tags import do_extends as django_extends
from django.urls import NoReverseMatch, reverse
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString

from psirt.lib.kept import Kept
from psirt.lib.render_env import render_env

register = template.Library()

# (URL configuration, script prefix, language, current app, view name, arguments) → the URL, or None when it does
# not reverse. The key names everything the reversal reads, so nothing ages; a settings change empties it.
KEPT_URLS = Kept(max_entries=2048, max_age=float("inf"))

# Compiled root template → its blocks by name.
_root_blocks: weakref.WeakKeyDictionary[Template, dict[str, BlockNode]] = weakref.WeakKeyDictionary()


def clear(**kwargs: Any) -> None:
    KEPT_URLS.clear()
    _root_blocks.clear()


setting_changed.connect(clear, dispatch_uid="psirt-builtin-tags-clear")


def root_blocks(compiled: Template) -> dict[str, BlockNode] | None:
    """The blocks of `compiled` when it is a root template (its first node that is not text is no `{% extends %}`),
    else None, as Django's `ExtendsNode.render` finds them."""
    found = _root_blocks.get(compiled)
    if found is None:
        for node in compiled.nodelist:
            if not isinstance(node, TextNode):
                if isinstance(node, ExtendsNode):
                    return None
                break
        found = _root_blocks[compiled] = {
            n.name: n for n in compiled.nodelist.get_nodes_by_type(BlockNode) if isinstance(n, BlockNode)
        }
    return found


class KeptBlocksExtendsNode(ExtendsNode):
    """Django's `ExtendsNode`, with the root template's blocks collected once per template (`root_blocks`)."""

    def render(self, context: Context) -> SafeString:
        compiled_parent = self.get_parent(context)
        if BLOCK_CONTEXT_KEY not in context.render_context:
            context.render_context[BLOCK_CONTEXT_KEY] = BlockContext()
        block_context = context.render_context[BLOCK_CONTEXT_KEY]
        block_context.add_blocks(self.blocks)
        blocks = root_blocks(compiled_parent)
        if blocks is not None:
            block_context.add_blocks(blocks)
        with context.render_context.push_state(compiled_parent, isolated_context=False):
            rendered: SafeString = compiled_parent._render(context)  # type: ignore[attr-defined]
            return rendered


@register.tag("extends")
def do_extends(parser: Parser, token: Token) -> Node:
    node = django_extends(parser, token)
    return KeptBlocksExtendsNode(node.nodelist, node.parent_name, node.template_dirs)


_NONE: Any = object()


def _literal(expression: Any) -> tuple[bool, Any]:
    """(True, value) for an argument that is a literal without filters, else (False, None)."""
    if expression.filters or isinstance(expression.var, Variable):
        return False, None
    return True, expression.var


class ConstantURLNode(URLNode):
    """`{% url %}` whose view name and arguments are all literals: reversed once per key (see KEPT_URLS)."""

    def __init__(self, node: URLNode, view_name: str, args: tuple[Any, ...], kwargs: tuple[tuple[str, Any], ...]):
        super().__init__(node.view_name, node.args, node.kwargs, node.asvar)
        self.literal = (view_name, args, kwargs)

    def render(self, context: Context) -> str:
        request = getattr(context, "request", None)
        current_app: str | None = getattr(request, "current_app", _NONE)  # as Django's URLNode finds it
        if current_app is _NONE:
            current_app = getattr(getattr(request, "resolver_match", None), "namespace", None)
        view_name, args, kwargs = self.literal
        key = constant_url_key(context, current_app, self.literal)
        url = KEPT_URLS.get("", key, lambda: self._reverse(current_app))
        if url is None:
            if self.asvar is None:
                reverse(view_name, args=list(args), kwargs=dict(kwargs), current_app=current_app)  # raises
            url = ""
        if self.asvar:
            context[self.asvar] = url
            return ""
        return conditional_escape(url) if context.autoescape else url

    def _reverse(self, current_app: str | None) -> str | None:
        view_name, args, kwargs = self.literal
        try:
            return reverse(view_name, args=list(args), kwargs=dict(kwargs), current_app=current_app)
        except NoReverseMatch:
            return None


@register.tag("url")
def do_url(parser: Parser, token: Token) -> Node:
    node: URLNode = django_url(parser, token)
    view_name = _literal(node.view_name)
    args = [_literal(arg) for arg in node.args]
    kwargs = [(name, _literal(value)) for name, value in node.kwargs.items()]
    if view_name[0] and all(ok for ok, _value in args) and all(ok for _name, (ok, _value) in kwargs):
        return ConstantURLNode(
            node,
            view_name[1],
            tuple(value for _ok, value in args),
            tuple((name, value) for name, (_ok, value) in kwargs),
        )
    return node


def constant_url_key(context: Context, current_app: str | None, literal: tuple[Any, ...]) -> tuple[Any, ...]:
    """The key of a constant `{% url %}` in KEPT_URLS: the URL configuration, script prefix and language as the
    rendering read them once (psirt.lib.render_env), the current application and the literal view and arguments."""
    env = render_env(context)
    return (env.urlconf, env.script_prefix, env.language, current_app, *literal)


def iso_day(value: dt.date) -> str:
    """The day of a date or datetime as `YYYY-MM-DD`, as Django's date format "Y-m-d" writes it."""
    return f"{value.year:04d}-{value.month:02d}-{value.day:02d}"


def day_time_element(moment: dt.datetime, zone: dt.tzinfo) -> str:
    """`<time datetime="…">YYYY-MM-DD</time>` for `moment` in `zone`, as a template writes
    `<time datetime="{{ moment|date:'c' }}">{{ moment|date:"Y-m-d" }}</time>` in the active time zone (nothing in it
    needs escaping). The zone is the caller's, read once for many rows."""
    local = moment.astimezone(zone)  # what the template's local time is, without its checks
    return f'<time datetime="{local.isoformat()}">{iso_day(local)}</time>'


@register.filter(expects_localtime=True, is_safe=False)
def date(value: Any, arg: str | None = None) -> str:
    """Django's `date` filter, without its format lookup and parsing for "c" and "Y-m-d" of a date or datetime."""
    if isinstance(value, dt.date):
        if arg == "c":
            return value.isoformat()
        if arg == "Y-m-d":
            return iso_day(value)
    result: str = django_date(value, arg)
    return result

"""A mail template rendered once per language and shape of its context, with slots for the texts of each mail.

The worker renders the same few templates thousands of times (every acknowledgment, every mail of a fan-out), and
their values are plain JSON texts that a template only prints or tests. Such a template's output is its rendering
of a *probe* — the context with each printed text replaced by a marker — with every marker replaced by its text:
as it is where the template printed it as it is, HTML-escaped where it printed it escaped (Django's
`conditional_escape`, which for a plain text is the standard library's `html.escape`). A marker holds an `&`, so
the two are told apart in the probe's output. The rendering of the probe is kept per template, language, catalog
and *shape* of the context: its keys in their order, which texts are empty, and every other value as it is.

This is exact only for what a template does to a text without looking at it: print it (`{{ x }}`, a
`{% blocktranslate %}` value), test whether it is empty (`{% if x %}`), or hand a mapping of texts to a filter that
picks one of them (a filter with `picks_a_value` set: `str()` of one value of its mapping, chosen by its argument
and by which values are empty). So the template is read first (`uses`): a value it compares, counts or passes as an
argument (a bare variable: the mail's kind, stage, language, a number) is part of the shape, kept as it is in the
probe; a value printed or looked at through any other filter, `{% translate x %}`, or any other tag
(`{% for %}`, `{% include %}`, …) makes the template be rendered as Django renders it, every time (a text kept in
the shape would stay in the worker's memory past its mail, and a message or a name has no business there). So does
a context that is not plain JSON values (a date, a model, a safe string) or whose lookups are not plain keys (a
text looked into, a key that is missing), and a text that holds a marker's characters.
"""

from __future__ import annotations

import html
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any
from weakref import WeakKeyDictionary

from django.conf import settings
from django.core.signals import setting_changed
from django.template import defaulttags
from django.template.base import FilterExpression, TextNode, Variable, VariableNode
from django.template.loader import get_template
from django.templatetags import i18n as django_i18n
from django.utils.translation import get_language, trans_real

from psirt.lib.i18n_tags import ConstantTranslateNode
from psirt.lib.kept import Kept

# A marker: two private-use characters around a number, a nonce of this process (no template text holds it) and the
# `&` that escaping turns into `&amp;`.
_NONCE = secrets.token_hex(8)
OPEN, CLOSE = "\ue000", "\ue001"
_MARKER = re.compile(f"{OPEN}{_NONCE}(&amp;|&)([0-9]+){CLOSE}")

Path = tuple[str, ...]


@dataclass(frozen=True)
class Uses:
    """What a template does with its context's values: `values` are looked at (kept as they are in the probe),
    `printed` printed, `tested` tested for emptiness, `picked` handed to a filter that picks one of their values."""

    values: frozenset[Path]
    printed: frozenset[Path]
    tested: frozenset[Path]
    picked: frozenset[Path]

    @cached_property
    def above_values(self) -> frozenset[Path]:
        """The paths that lead to a value looked at (the context's own, (), among them)."""
        return frozenset(path[:end] for path in self.values for end in range(len(path)))


class Unsupported(Exception):
    """The template does something with its values that a probe cannot stand in for."""


def _paths(expression: FilterExpression, into: set[Path]) -> None:
    """The paths of an expression's variable and its filters' arguments, all looked at."""
    var = expression.var
    if isinstance(var, Variable) and var.lookups is not None:
        into.add(tuple(var.lookups))
    for _func, args in expression.filters:
        for lookup, arg in args:
            if lookup and arg.lookups is not None:
                into.add(tuple(arg.lookups))


def _printed(expression: FilterExpression, found: dict[str, set[Path]]) -> None:
    """An expression whose result is printed (or is a `{% blocktranslate %}` value)."""
    var = expression.var
    filters = expression.filters
    if not (isinstance(var, Variable) and var.lookups is not None) or var.translate:
        _paths(expression, found["values"])  # a constant, whose filters may look at their arguments
        return
    path = tuple(var.lookups)
    if not filters:
        found["printed"].add(path)
    elif len(filters) == 1 and getattr(filters[0][0], "picks_a_value", False):
        found["picked"].add(path)
        for lookup, arg in filters[0][1]:
            if lookup and arg.lookups is not None:
                found["values"].add(tuple(arg.lookups))
    else:
        # Kept in the shape, its text would stay in memory past its mail (a message, a summary).
        raise Unsupported("a text printed through a filter")


def _control(expression: FilterExpression, found: dict[str, set[Path]]) -> None:
    """An expression the template compares, counts or passes as an argument: its values are part of the shape. Only
    a bare variable: through a filter its text would stay in memory past its mail."""
    var = expression.var
    if expression.filters and isinstance(var, Variable) and var.lookups is not None:
        raise Unsupported("a text looked at through a filter")
    _paths(expression, found["values"])


def _condition(condition: Any, found: dict[str, set[Path]]) -> None:
    """An `{% if %}` condition: a bare variable is tested for emptiness, `not`/`and`/`or` of such; anything else looks
    at its values."""
    if isinstance(condition, defaulttags.TemplateLiteral):
        value: Any = condition.value
        var = value.var
        if not value.filters and isinstance(var, Variable) and var.lookups is not None and not var.translate:
            found["tested"].add(tuple(var.lookups))
        else:
            _control(value, found)
        return
    if getattr(condition, "id", None) in ("not", "and", "or"):
        _condition(condition.first, found)
        if condition.second is not None:
            _condition(condition.second, found)
        return
    for operand in (getattr(condition, "first", None), getattr(condition, "second", None)):
        if isinstance(operand, defaulttags.TemplateLiteral):
            _control(operand.value, found)  # type: ignore[arg-type]  # a FilterExpression
        elif operand is not None:
            _condition_values(operand, found)


def _condition_values(condition: Any, found: dict[str, set[Path]]) -> None:
    if isinstance(condition, defaulttags.TemplateLiteral):
        _control(condition.value, found)  # type: ignore[arg-type]  # a FilterExpression
        return
    for operand in (getattr(condition, "first", None), getattr(condition, "second", None)):
        if operand is not None:
            _condition_values(operand, found)


def _walk(nodes: Any, found: dict[str, set[Path]]) -> None:
    for node in nodes:
        kind = type(node)
        if kind is TextNode or kind is ConstantTranslateNode or kind is defaulttags.LoadNode:
            continue
        if kind is defaulttags.CommentNode:
            continue
        if kind is VariableNode:
            _printed(node.filter_expression, found)
        elif kind is defaulttags.AutoEscapeControlNode:
            _walk(node.nodelist, found)
        elif kind is defaulttags.IfNode:
            for condition, nodelist in node.conditions_nodelists:
                if condition is not None:
                    _condition(condition, found)
                _walk(nodelist, found)
        elif isinstance(node, django_i18n.BlockTranslateNode):
            _block_translate(node, found)
        elif kind is django_i18n.TranslateNode:
            if node.asvar is not None:
                raise Unsupported("{% translate … as %}")
            var = node.filter_expression.var
            if isinstance(var, Variable) and var.lookups is not None:
                raise Unsupported("{% translate variable %}")  # prints a text looked up by the value
            _control(node.filter_expression, found)
            if node.message_context is not None:
                _control(node.message_context, found)
        else:
            raise Unsupported(type(node).__name__)


def _block_translate(node: django_i18n.BlockTranslateNode, found: dict[str, set[Path]]) -> None:
    if node.asvar is not None:
        raise Unsupported("{% blocktranslate … asvar %}")
    local = frozenset(node.extra_context) | ({node.countervar} if node.countervar else set())
    for expression in node.extra_context.values():
        _printed(expression, found)
    if node.counter is not None:
        _control(node.counter, found)
    if node.message_context is not None:
        _control(node.message_context, found)
    for tokens in (node.singular, node.plural or []):
        for token in tokens:
            if token.token_type.name == "VAR" and token.contents not in local:
                found["printed"].add((token.contents,))


_USES: WeakKeyDictionary[Any, Uses | None] = WeakKeyDictionary()


def uses(template: Any) -> Uses | None:
    """What `template` (a compiled Django template) does with its values; None when a probe cannot stand in for
    them. Read once per compiled template."""
    try:
        return _USES[template]
    except KeyError:
        pass
    found: dict[str, set[Path]] = {"values": set(), "printed": set(), "tested": set(), "picked": set()}
    try:
        _walk(template.nodelist, found)
        result: Uses | None = Uses(
            values=frozenset(found["values"]),
            printed=frozenset(found["printed"] - found["values"]),
            tested=frozenset(found["tested"] - found["values"]),
            picked=frozenset(found["picked"] - found["values"]),
        )
    except Unsupported:
        result = None
    _USES[template] = result
    return result


# --- the probe ------------------------------------------------------------------------------------------


class NotPlain(Exception):
    """A context value a probe cannot stand in for."""


_SCALARS = (int, float, bool, type(None))


def _shape(value: Any, path: Path, found: Uses, texts: list[str], probe: bool) -> tuple[Any, Any]:
    """(the value in the probe when `probe`, else None; its shape). A non-empty text is a slot (appended to `texts`,
    a marker in the probe) unless its path is looked at; the shape holds the type of every scalar, the keys of every
    mapping in order, and every value looked at as it is. Walked without the probe for every mail, with it only
    when the shape is new."""
    if path in found.values:
        return value, _frozen(value)
    if path not in found.above_values:
        return _plain(value, texts, probe)
    kind = type(value)
    if kind is dict:
        made, shape = {}, []
        for key, item in value.items():
            if type(key) is not str:
                raise NotPlain("a key that is not a text")
            made[key], item_shape = _shape(item, (*path, key), found, texts, probe)
            shape.append((key, item_shape))
        return made, ("d", tuple(shape))
    if kind is list or kind is tuple:
        items = [_shape(item, (*path, str(index)), found, texts, probe) for index, item in enumerate(value)]
        return [made for made, _shape in items], ("l", tuple(shape for _made, shape in items))
    return _plain(value, texts, probe)


_MARK = f"{OPEN}{_NONCE}&"
_EMPTY = ("s", "")


def _plain(value: Any, texts: list[str], probe: bool) -> tuple[Any, Any]:
    """`_shape` of a value that holds no value looked at."""
    kind = type(value)
    if kind is str:
        if not value:
            return value, _EMPTY
        if OPEN in value or CLOSE in value:
            raise NotPlain("a marker's character")
        texts.append(value)
        return (f"{_MARK}{len(texts) - 1}{CLOSE}" if probe else None), "slot"
    if kind is dict:
        made, shape = {}, []
        for key, item in value.items():
            if type(key) is not str:
                raise NotPlain("a key that is not a text")
            made[key], item_shape = _plain(item, texts, probe)
            shape.append((key, item_shape))
        return made, ("d", tuple(shape))
    if kind is list or kind is tuple:
        items = [_plain(item, texts, probe) for item in value]
        return [made for made, _shape in items], ("l", tuple(shape for _made, shape in items))
    if kind in _SCALARS:
        return value, (kind.__name__, value)
    raise NotPlain(kind.__name__)


def _frozen(value: Any) -> Any:
    """A plain JSON value as a hashable shape, every text as it is."""
    kind = type(value)
    if kind is str:
        if OPEN in value or CLOSE in value:
            raise NotPlain("a marker's character")
        return ("s", value)
    if kind is dict:
        if any(type(key) is not str for key in value):
            raise NotPlain("a key that is not a text")
        return ("d", tuple((key, _frozen(item)) for key, item in value.items()))
    if kind is list or kind is tuple:
        return ("l", tuple(_frozen(item) for item in value))
    if kind in _SCALARS:
        return (kind.__name__, value)
    raise NotPlain(kind.__name__)


_LEAVES = (str, int, float, bool, type(None))


def _lookup(probe: Mapping[str, Any], path: Path) -> tuple[bool, Any]:
    """(found, value) of `path` in the probe by plain keys and list indexes, as Django's lookup finds it; raises
    NotPlain when Django would look further (into a text, at a missing key's attributes)."""
    if path[0] not in probe:
        return False, None  # the template engine's own names (True, None), or nothing: a constant either way
    current: Any = probe[path[0]]
    for bit in path[1:]:
        if type(current) is dict and bit in current:
            current = current[bit]
        elif type(current) is list and bit.isdigit() and int(bit) < len(current):
            current = current[int(bit)]
        else:
            raise NotPlain("a lookup past plain keys")
    return True, current


def _fits(probe: Mapping[str, Any], found: Uses) -> bool:
    """Whether every printed, tested or picked value of the probe is one the probe stands in for: found by plain
    keys, a text or number where printed, a text or number or a mapping of those where picked."""
    try:
        for path in found.values | found.tested:
            _lookup(probe, path)
        for path in found.printed:
            present, value = _lookup(probe, path)
            if present and type(value) not in _LEAVES:
                return False
        for path in found.picked:
            present, value = _lookup(probe, path)
            if not present:
                continue
            if type(value) is dict:
                if not all(type(item) in _LEAVES for item in value.values()):
                    return False
            elif type(value) not in _LEAVES:
                return False
    except NotPlain:
        return False
    return True


@dataclass(frozen=True)
class Skeleton:
    """A template's rendering of a probe: its text between markers, and which text each marker stands for and
    whether escaped."""

    texts: tuple[str, ...]
    slots: tuple[tuple[int, bool], ...]

    def fill(self, values: list[str]) -> str:
        out = [self.texts[0]]
        for (index, escaped), text in zip(self.slots, self.texts[1:], strict=True):
            value = values[index]
            out.append(html.escape(value) if escaped else value)
            out.append(text)
        return "".join(out)


def _skeleton(rendered: str, count: int) -> Skeleton | None:
    parts = _MARKER.split(rendered)
    texts = tuple(parts[0::3])
    if any(OPEN in text or CLOSE in text for text in texts):
        return None  # a marker the rendering changed
    slots = tuple((int(number), escaped == "&amp;") for escaped, number in zip(parts[1::3], parts[2::3], strict=True))
    if any(index >= count for index, _escaped in slots):
        return None
    return Skeleton(texts, slots)


# (template, language, catalog, shape) → its skeleton, or None: that shape is rendered as Django renders it.
KEPT = Kept(max_entries=512, max_age=float("inf"))


def clear(**kwargs: Any) -> None:
    KEPT.clear()
    _USES.clear()


setting_changed.connect(clear, dispatch_uid="psirt-mail-rendering-clear")


def render(name: str, context: Mapping[str, Any]) -> str:
    """`render_to_string(name, context)`, byte for byte, in the active language (see the module)."""
    return render_template(get_template(name), context)


def render_template(template: Any, context: Mapping[str, Any]) -> str:
    """`template.render(context)` (a template of Django's template backend), byte for byte, in the active language."""
    compiled = getattr(template, "template", None)
    found = uses(compiled) if compiled is not None else None
    if found is None:
        return _as_django_renders(template, context)
    values = dict(context)
    texts: list[str] = []
    try:
        _none, shape = _shape(values, (), found, texts, False)
    except NotPlain:
        return _as_django_renders(template, context)
    catalog = trans_real.catalog() if settings.USE_I18N else None

    def compute() -> Skeleton | None:
        probe, _same = _shape(values, (), found, [], True)
        if not _fits(probe, found):
            return None
        return _skeleton(template.render(probe), len(texts))

    skeleton = KEPT.get("", (compiled, get_language(), catalog, shape), compute)
    if skeleton is None:
        return _as_django_renders(template, context)
    return skeleton.fill(texts)


def _as_django_renders(template: Any, context: Mapping[str, Any]) -> str:
    rendered: str = template.render(dict(context))
    return rendered

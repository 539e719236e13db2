"""The `i18n` template library every template loads (`{% load i18n %}`), put in place of Django's own under the
same name by the project's template backend (psirt.lib.templates): Django's tags and filters, unchanged, except that
`{% translate "a literal" %}` keeps what it renders and `{% blocktranslate %}` builds its message ids once.

A page carries some forty constant `{% translate %}` texts; each one looked up through the active translation
(a thread-local read, a catalog lookup, a lazy string, escaping) was about a tenth of a public page's rendering.
Such a text is a pure function of the literal and the active catalog, so its rendering is kept per (catalog,
literal). The key is the translation object itself, not the language code: a catalog reloaded (a settings change
in tests, new .mo files in development) is a new object, so a kept text is never a stale one. Any other form
(a variable, a filter, `noop`, `context`, `as`) renders as Django renders it.

`{% blocktranslate %}` joins its text and variable tokens into the message id (and the plural one) on every
rendering, escaping `%` and, with `trimmed`, collapsing whitespace with a regular expression: a fifth of the tag's
cost, for a value that depends on the node alone. The ids are built when the node is compiled; the lookup in the
active catalog, the plural form for the count, the values and the formatting stay Django's, per rendering.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.conf import settings
from django.core.signals import setting_changed
from django.template.base import Node, Parser, Token
from django.template.context import Context
from django.templatetags import i18n as django_i18n
from django.utils import translation
from django.utils.safestring import SafeString

from psirt.lib.kept import Kept
from psirt.lib.render_env import fresh, render_env

register = template.Library()
register.tags.update(django_i18n.register.tags)
register.filters.update(django_i18n.register.filters)

# (catalog, literal) → the rendered text. The key is the data itself, so nothing ages: one catalog's texts never
# change while it is the same object.
KEPT = Kept(max_entries=4096, max_age=float("inf"))


def clear(**kwargs: Any) -> None:
    KEPT.clear()


setting_changed.connect(clear, dispatch_uid="psirt-i18n-tags-clear")


class ConstantTranslateNode(Node):
    """`{% translate "literal" %}`: Django's node, rendered once per active catalog."""

    child_nodelists = ()

    def __init__(self, node: django_i18n.TranslateNode, literal: str) -> None:
        self.node = node
        self.literal = literal

    def render(self, context: Context) -> SafeString | str:
        if not settings.USE_I18N:  # without translation machinery there is no catalog to key on
            return self.node.render(context)
        return KEPT.get("", (render_env(context).catalog, self.literal), lambda: self.node.render(context))


class KeptIdsBlockTranslateNode(django_i18n.BlockTranslateNode):
    """`{% blocktranslate %}`: Django's node, with the message ids (and the names of the variables they hold) of its
    singular and plural built once, when compiled."""

    def __init__(self, node: django_i18n.BlockTranslateNode) -> None:
        super().__init__(
            node.extra_context,
            node.singular,
            node.plural,
            node.countervar,
            node.counter,
            node.message_context,
            node.trimmed,
            node.asvar,
            node.tag_name,  # type: ignore[attr-defined]  # not in django-stubs
        )
        self.singular_id = super().render_token_list(self.singular)
        self.plural_id = super().render_token_list(self.plural)

    def render_token_list(self, tokens: list[Any]) -> tuple[str, list[str]]:
        if tokens is self.singular:
            msgid, names = self.singular_id
        elif tokens is self.plural:
            msgid, names = self.plural_id
        else:
            return super().render_token_list(tokens)
        return msgid, list(names)  # Django's render extends the singular's list with the plural's


@register.tag("blocktranslate")
@register.tag("blocktrans")
def do_block_translate(parser: Parser, token: Token) -> Node:
    return KeptIdsBlockTranslateNode(django_i18n.do_block_translate(parser, token))


@register.tag("translate")
@register.tag("trans")
def do_translate(parser: Parser, token: Token) -> Node:
    node = django_i18n.do_translate(parser, token)
    expression = node.filter_expression
    literal = getattr(expression.var, "literal", None)
    if (
        isinstance(literal, str)
        and not expression.filters
        and not node.noop
        and node.asvar is None
        and node.message_context is None
    ):
        return ConstantTranslateNode(node, literal)
    return node


class FreshLanguageNode(django_i18n.LanguageNode):
    """Django's `{% language %}`: its body rendered in the language it names, with the rendering's snapshot of the
    language and catalog (psirt.lib.render_env) read afresh inside it."""

    def render(self, context: Context) -> SafeString:
        with translation.override(self.language.resolve(context)), fresh(context):
            output: SafeString = self.nodelist.render(context)
        return output


@register.tag("language")
def do_language(parser: Parser, token: Token) -> Node:
    node = django_i18n.language(parser, token)
    return FreshLanguageNode(node.nodelist, node.language)

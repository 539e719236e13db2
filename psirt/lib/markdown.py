"""Safe Markdown for every text people type into psirt: public pages, release notes, advisories.

The texts are written by staff, but a compromised or careless account, a pasted advisory from elsewhere, or a
reporter's words quoted into an advisory must not be able to run script, load anything from another host, or
track visitors. Two layers, each sufficient for the obvious attacks on its own:

1. markdown-it-py in CommonMark mode with raw HTML *disabled*: `<script>` typed in a text comes out as the
   visible text "<script>". Images whose source is not on this site are rendered as a plain link instead (an
   image from another host would leak every visitor's address and browser to that host — a tracking pixel).
2. nh3 (ammonia) cleans the result against a short allow-list of tags and attributes, keeps only http(s) and
   mailto links, and adds rel="nofollow noopener noreferrer" to every link.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlsplit

import nh3
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.rules_core import StateCore
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

from psirt.lib.kept import Kept

# Longer input is cut before rendering: the forms allow far less, this only bounds the work of one call.
MAX_INPUT_CHARS = 200_000

ALLOWED_TAGS = {
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "code",
    "del",
    "em",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "img",
    "kbd",
    "li",
    "ol",
    "p",
    "pre",
    "s",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "ul",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "ol": {"start"},
    "th": {"scope"},
}
LINK_SCHEMES = {"http", "https", "mailto"}
LINK_REL = "nofollow noopener noreferrer"


def is_local_url(url: str) -> bool:
    """True for a URL on this site: a path without scheme or host. Rejects protocol-relative `//host`,
    backslashes (browsers read `/\\host` as `//host`) and whitespace or control characters (browsers drop
    them, which can turn `/\\t/host` into `//host`)."""
    if not url or any(ch.isspace() or ord(ch) < 32 or ch == "\\" for ch in url):
        return False
    if url.startswith("//"):
        return False
    parts = urlsplit(url)
    return not parts.scheme and not parts.netloc


def _attribute_filter(tag: str, attr: str, value: str) -> str | None:
    # Second line of defence for images: whatever produced the <img>, only same-site sources survive.
    if tag == "img" and attr == "src" and not is_local_url(value):
        return None
    return value


_CLEANER = nh3.Cleaner(
    tags=ALLOWED_TAGS,
    clean_content_tags={"script", "style"},
    attributes=ALLOWED_ATTRIBUTES,
    attribute_filter=_attribute_filter,
    url_schemes=LINK_SCHEMES,
    link_rel=LINK_REL,
    strip_comments=True,
)


def _render_image(self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
    token = tokens[idx]
    src = str(token.attrGet("src") or "")
    alt = self.renderInlineAsText(token.children or [], options, env)
    if is_local_url(src):
        title = token.attrGet("title")
        title_attr = f' title="{escape(str(title))}"' if title else ""
        return f'<img src="{escape(src)}" alt="{escape(alt)}"{title_attr}>'
    # An image from elsewhere becomes a link the reader may follow deliberately (nh3 still vets the scheme).
    return f'<a href="{escape(src)}">{escape(alt or src)}</a>'


def _shift_headings(state: StateCore) -> None:
    """`# Title` in a text becomes <h2>: the page around it owns the single <h1>."""
    for token in state.tokens:
        if token.type in ("heading_open", "heading_close"):
            level = min(int(token.tag[1]) + 1, 6)
            token.tag = f"h{level}"


def _build() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable(["table", "strikethrough"])
    md.add_render_rule("image", _render_image)
    md.core.ruler.push("psirt_shift_headings", _shift_headings)
    return md


_MD = _build()


# Markdown source → its cleaned HTML, a pure function of the text: public pages show the same texts to every
# visitor (an advisory's summary, description and workarounds), and rendering them was a tenth of an advisory page.
# The key is the text itself, so nothing ages; only texts up to KEPT_MAX_CHARS are kept, which bounds the memory.
KEPT = Kept(max_entries=256, max_age=float("inf"))
KEPT_MAX_CHARS = 20_000


def render_markdown(text: str | None) -> SafeString:
    """Markdown in, sanitised HTML out, safe to put into any template."""
    if not text:
        return SafeString("")
    source = str(text)
    if len(source) > KEPT_MAX_CHARS:
        return render_markdown_afresh(source)
    return KEPT.get("", source, lambda: render_markdown_afresh(source))


def render_markdown_afresh(text: str) -> SafeString:
    """`render_markdown` of a non-empty text, rendered now rather than kept."""
    source = text[:MAX_INPUT_CHARS].replace("\x00", "\ufffd")
    html = _MD.render(source)
    return mark_safe(_CLEANER.clean(html))  # noqa: S308 - cleaned by nh3 against an allow-list just above


def escape_markdown(text: str) -> str:
    """Backslash-escape Markdown punctuation, for values (a vendor name) inserted into Markdown source."""
    specials = set("\\`*_{}[]()<>#+-.!|~")
    return "".join("\\" + ch if ch in specials else ch for ch in text)

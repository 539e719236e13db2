"""Atom feeds (RFC 4287) of published advisories and revisions.

The XML is built with `xml.etree.ElementTree`, which escapes text and attribute values; on top of that every text
goes through `clean_text` (characters XML 1.0 forbids would make the feed ill-formed for every reader, and bidi
overrides would let a title display as something it does not say). No string concatenation of untrusted text."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from psirt.formats.text import clean_text, rfc3339

ATOM_NS = "http://www.w3.org/2005/Atom"
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
CONTENT_TYPE = "application/atom+xml; charset=utf-8"


@dataclass(frozen=True)
class FeedMeta:
    """The feed itself. `id` is a permanent IRI (the feed URL will do); `updated` defaults to the newest entry's."""

    id: str
    title: str
    self_url: str
    alternate_url: str
    author: str
    subtitle: str = ""
    lang: str = "en"
    updated: datetime | None = None
    rights: str = ""


@dataclass(frozen=True)
class FeedEntry:
    """One advisory (or one revision of it). `id` must stay the same for the same entry forever."""

    id: str
    title: str
    url: str
    updated: datetime
    published: datetime | None = None
    summary: str = ""
    categories: tuple[str, ...] = ()
    csaf_url: str = ""


def _url(value: str, what: str) -> str:
    if not value.startswith(("https://", "http://")) or clean_text(value) != value or any(c.isspace() for c in value):
        raise ValueError(f"{what} must be an http(s) URL without spaces or control characters, got {value!r}")
    return value


def _iri(value: str, what: str) -> str:
    if ":" not in value or clean_text(value) != value or any(c.isspace() for c in value):
        raise ValueError(f"{what} must be an absolute IRI (https://…, urn:…, tag:…), got {value!r}")
    return value


def xml_text(value: str) -> str:
    """`value` as a reader of the feed will see it: cleaned, line ends normalised (XML parsers turn CR into LF)."""
    return clean_text(value).replace("\r\n", "\n").replace("\r", "\n")


def _el(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, {k: xml_text(v) for k, v in attrs.items()})
    if text is not None:
        element.text = xml_text(text)
    return element


def render_atom(feed: FeedMeta, entries: Iterable[FeedEntry]) -> str:
    """The feed as an XML document (a str with an XML declaration), entries in the order given (newest first is the
    convention). Raises ValueError for a missing `updated` on an empty feed or a URL that is not http(s)."""
    entries = list(entries)
    updated = feed.updated or max((e.updated for e in entries), default=None)
    if updated is None:
        raise ValueError("an empty feed needs FeedMeta.updated")
    # Unqualified names with the namespace declared on the root: ElementTree's default_namespace option refuses the
    # unqualified attributes (rel, href) that Atom uses.
    root = ET.Element("feed", {"xmlns": ATOM_NS, _XML_LANG: clean_text(feed.lang)})
    _el(root, "id", _iri(feed.id, "feed id"))
    _el(root, "title", feed.title, type="text")
    if feed.subtitle:
        _el(root, "subtitle", feed.subtitle, type="text")
    _el(root, "updated", rfc3339(updated))
    _el(root, "link", rel="self", type="application/atom+xml", href=_url(feed.self_url, "feed self URL"))
    _el(root, "link", rel="alternate", type="text/html", href=_url(feed.alternate_url, "feed page URL"))
    author = _el(root, "author")
    _el(author, "name", feed.author)
    if feed.rights:
        _el(root, "rights", feed.rights, type="text")
    _el(root, "generator", "psirt")
    for entry in entries:
        item = _el(root, "entry")
        _el(item, "id", _iri(entry.id, "entry id"))
        _el(item, "title", entry.title, type="text")
        _el(item, "updated", rfc3339(entry.updated))
        if entry.published:
            _el(item, "published", rfc3339(entry.published))
        _el(item, "link", rel="alternate", type="text/html", href=_url(entry.url, "entry URL"))
        if entry.csaf_url:
            _el(
                item,
                "link",
                rel="related",
                type="application/json",
                title="CSAF",
                href=_url(entry.csaf_url, "CSAF URL"),
            )
        for term in entry.categories:
            if clean_text(term).strip():
                _el(item, "category", term=term)
        if entry.summary:
            _el(item, "summary", entry.summary, type="text")
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    return '<?xml version="1.0" encoding="utf-8"?>\n' + body + "\n"

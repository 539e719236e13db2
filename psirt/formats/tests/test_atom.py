"""Atom feeds: well-formed whatever the titles contain, and saying what RFC 4287 asks."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from psirt.formats.atom import FeedEntry, FeedMeta, render_atom, xml_text

NS = {"a": "http://www.w3.org/2005/Atom"}


def attr(element: ET.Element | None, path: str, name: str) -> str:
    assert element is not None
    found = element.find(path, NS)
    assert found is not None, path
    return found.attrib[name]


SITE = "https://security.visiontek.example"


def meta(**kw: object) -> FeedMeta:
    base: dict[str, Any] = {
        "id": f"{SITE}/feeds/advisories.atom",
        "title": "VisionTek security advisories",
        "self_url": f"{SITE}/feeds/advisories.atom",
        "alternate_url": f"{SITE}/en/advisories/",
        "author": "VisionTek PSIRT",
    }
    base.update(kw)
    return FeedMeta(**base)


def entry(title: str = "VT-SA-2026-004: Command injection", **kw: object) -> FeedEntry:
    base: dict[str, Any] = {
        "id": f"{SITE}/en/advisories/VT-SA-2026-004/#revision-2",
        "title": title,
        "url": f"{SITE}/en/advisories/VT-SA-2026-004/",
        "updated": datetime(2026, 4, 2, 9, tzinfo=UTC),
        "published": datetime(2026, 3, 24, 9, tzinfo=UTC),
        "summary": "A command injection lets an operator run commands as root.",
        "categories": ("High", "IPC-2325 bullet camera"),
        "csaf_url": f"{SITE}/.well-known/csaf/white/2026/vt-sa-2026-004.json",
    }
    base.update(kw)
    return FeedEntry(**base)


def test_feed_structure() -> None:
    older = entry(id=f"{SITE}/en/advisories/VT-SA-2026-001/", updated=datetime(2026, 1, 5, tzinfo=UTC))
    text = render_atom(meta(), [entry(), older])
    assert text.startswith('<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom"')
    root = ET.fromstring(text.encode())
    assert root.tag == "{http://www.w3.org/2005/Atom}feed"
    assert root.attrib["{http://www.w3.org/XML/1998/namespace}lang"] == "en"
    assert root.findtext("a:id", namespaces=NS) == f"{SITE}/feeds/advisories.atom"
    assert root.findtext("a:updated", namespaces=NS) == "2026-04-02T09:00:00Z"  # the newest entry
    assert attr(root, "a:link[@rel='self']", "href") == f"{SITE}/feeds/advisories.atom"
    assert root.findtext("a:author/a:name", namespaces=NS) == "VisionTek PSIRT"
    entries = root.findall("a:entry", NS)
    assert [e.findtext("a:id", namespaces=NS) for e in entries] == [
        f"{SITE}/en/advisories/VT-SA-2026-004/#revision-2",
        f"{SITE}/en/advisories/VT-SA-2026-001/",
    ]
    first = entries[0]
    assert first.findtext("a:published", namespaces=NS) == "2026-03-24T09:00:00Z"
    assert attr(first, "a:link[@rel='alternate']", "href") == f"{SITE}/en/advisories/VT-SA-2026-004/"
    assert attr(first, "a:link[@rel='related']", "href").endswith("vt-sa-2026-004.json")
    assert [c.attrib["term"] for c in first.findall("a:category", NS)] == ["High", "IPC-2325 bullet camera"]


def test_rendering_is_deterministic() -> None:
    assert render_atom(meta(), [entry()]) == render_atom(meta(), [entry()])


@pytest.mark.parametrize(
    ("hostile", "shown"),
    [
        ("<script>alert(1)</script>", "<script>alert(1)</script>"),
        ("]]><x/>", "]]><x/>"),
        ("a & b &amp; <![CDATA[c]]>", "a & b &amp; <![CDATA[c]]>"),
        ("bell\x07 nul\x00 esc\x1b[31m vt\x0b del\x7f c1\x85", "bell nul esc[31m vt del c1"),
        ("invoice\u202egnp.exe", "invoicegnp.exe"),
        ("iso\u2066late\u2069 mark\u200f", "isolate mark"),
        ("\"quoted\" 'single'", "\"quoted\" 'single'"),
        ("noncharacter \ufffe\uffff end", "noncharacter  end"),
        ("中文标题 – emoji 🔒", "中文标题 – emoji 🔒"),
    ],
)
def test_hostile_text_stays_text(hostile: str, shown: str) -> None:
    text = render_atom(
        meta(title=hostile, subtitle=hostile),
        [entry(title=hostile, summary=hostile, categories=(hostile,))],
    )
    root = ET.fromstring(text.encode("utf-8"))  # well-formed, or this raises
    item = root.find("a:entry", NS)
    assert item is not None
    assert item.findtext("a:title", namespaces=NS) == shown
    assert item.findtext("a:summary", namespaces=NS) == shown
    assert root.findtext("a:title", namespaces=NS) == shown
    assert attr(item, "a:category", "term") == shown
    assert len(list(item)) == 8  # nothing injected: id, title, updated, published, 2 links, category, summary
    assert {child.tag.split("}")[1] for child in item} == {
        "id",
        "title",
        "updated",
        "published",
        "link",
        "category",
        "summary",
    }


def test_newlines_in_text_are_kept_as_text() -> None:
    text = render_atom(meta(), [entry(title="line one\n</title><title>two", summary="a\r\nb\rc")])
    item = ET.fromstring(text.encode()).find("a:entry", NS)
    assert item is not None
    assert item.findtext("a:title", namespaces=NS) == "line one\n</title><title>two"
    assert len(item.findall("a:title", NS)) == 1
    assert item.findtext("a:summary", namespaces=NS) == "a\nb\nc"


@pytest.mark.parametrize("url", ["javascript:alert(1)", "https://x.example/a b", "https://x.example/\n", "//x"])
def test_urls_must_be_http(url: str) -> None:
    with pytest.raises(ValueError, match="URL"):
        render_atom(meta(), [entry(url=url)])


def test_ids_must_be_absolute() -> None:
    with pytest.raises(ValueError, match="IRI"):
        render_atom(meta(), [entry(id="VT-SA-2026-004")])
    assert "urn:uuid:" in render_atom(meta(), [entry(id="urn:uuid:8d7b5a3e-0d0e-4a51-9d9e-0a3c0c1d2b6f")])


def test_empty_feed_needs_an_updated_date() -> None:
    with pytest.raises(ValueError, match="updated"):
        render_atom(meta(), [])
    root = ET.fromstring(render_atom(meta(updated=datetime(2026, 1, 1, tzinfo=UTC)), []).encode())
    assert root.findall("a:entry", NS) == []


@settings(max_examples=50, deadline=None)
@given(title=st.text(max_size=80), summary=st.text(max_size=80))
def test_any_text_gives_a_well_formed_feed(title: str, summary: str) -> None:
    text = render_atom(meta(title=title), [entry(title=title, summary=summary or "x")])
    item = ET.fromstring(text.encode("utf-8")).find("a:entry", NS)
    assert item is not None
    assert (item.findtext("a:title", namespaces=NS) or "") == xml_text(title)

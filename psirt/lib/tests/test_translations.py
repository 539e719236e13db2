"""The Simplified Chinese catalogue is complete, safe to render, and its compiled `.mo` matches the `.po`.

The `.mo` is committed (a fresh machine may have no gettext tools), so a `.po` edited without recompiling would
silently serve stale or English text: the whole compiled catalogue is compared with the source here. Extracting
strings from the code is left to `makemessages` (too slow for the suite); these tests catch what it leaves behind.
"""

from __future__ import annotations

import gettext
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.utils import translation
from django.utils.translation import to_locale

LANGUAGE = "zh-hans"
CATALOGUE_DIR = Path(settings.LOCALE_PATHS[0]) / to_locale(LANGUAGE) / "LC_MESSAGES"
PO_FILE = CATALOGUE_DIR / "django.po"
MO_FILE = CATALOGUE_DIR / "django.mo"

EMPTY_STATE_EN = "There is currently no information to display."
EMPTY_STATE_ZH = "当前没有可显示的信息。"

# Python %-format placeholders (named or not), {name} placeholders and HTML tags must survive translation:
# a lost %(name)s raises KeyError at render time, a lost tag breaks the page or a link.
PERCENT = re.compile(r"%(?:\(\w+\))?[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrs%]")
BRACES = re.compile(r"\{\w*\}")
# Only real HTML: help texts such as "<PREFIX>-SA-<YEAR>" are words the translator may translate.
TAG = re.compile(r"</?(?:a|abbr|b|br|code|em|i|kbd|li|ol|p|small|span|strong|time|ul)\b[^>]*>")


@dataclass
class Entry:
    """One message of a .po file."""

    line: int
    context: str | None = None
    msgid: str = ""
    msgid_plural: str | None = None
    msgstrs: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)

    @property
    def key(self) -> str:
        """The key gettext uses in a compiled catalogue (context and id joined by EOT)."""
        return f"{self.context}\x04{self.msgid}" if self.context is not None else self.msgid

    @property
    def source(self) -> str:
        """The English text whose placeholders every translation must keep (the plural form if any)."""
        return self.msgid_plural if self.msgid_plural is not None else self.msgid


def _unquote(text: str) -> str:
    body = text.strip()
    assert body.startswith('"') and body.endswith('"'), text
    escapes = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}
    return re.sub(r"\\(.)", lambda m: escapes[m.group(1)], body[1:-1])


def parse_po(text: str) -> list[Entry]:
    """A minimal .po reader: enough for the files `makemessages` writes (no obsolete `#~` entries)."""
    entries: list[Entry] = []
    entry: Entry | None = None
    current: tuple[str, int] | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            entry, current = None, None
            continue
        if entry is None:
            entry = Entry(line=number)
            entries.append(entry)
        if line.startswith("#,"):
            entry.flags |= {flag.strip() for flag in line[2:].split(",")}
            continue
        if line.startswith("#"):
            continue
        match = re.match(r"(msgctxt|msgid_plural|msgid|msgstr)(?:\[(\d+)\])?\s+(\".*\")$", line)
        if match:
            current = (match.group(1), int(match.group(2) or 0))
            value = _unquote(match.group(3))
        else:
            assert current is not None and line.startswith('"'), f"django.po:{number}: cannot read {raw!r}"
            value = _unquote(line)
        name, index = current
        if name == "msgctxt":
            entry.context = (entry.context or "") + value
        elif name == "msgid":
            entry.msgid += value
        elif name == "msgid_plural":
            entry.msgid_plural = (entry.msgid_plural or "") + value
        else:
            entry.msgstrs[index] = entry.msgstrs.get(index, "") + value
    return entries


@pytest.fixture(scope="module")
def po_entries() -> list[Entry]:
    entries = parse_po(PO_FILE.read_text(encoding="utf-8"))
    header, messages = entries[0], entries[1:]
    assert header.msgid == "", "the .po file must start with its header"
    assert "Plural-Forms: nplurals=1; plural=0;" in header.msgstrs[0]
    assert "Content-Type: text/plain; charset=UTF-8" in header.msgstrs[0]
    assert "fuzzy" not in header.flags, "a fuzzy header is ignored by msgfmt (plural rules and charset lost)"
    return messages


def _where(entry: Entry) -> str:
    return f"django.po:{entry.line} {entry.msgid[:60]!r}"


def test_catalogue_has_the_interface_strings(po_entries: list[Entry]) -> None:
    ids = {entry.msgid for entry in po_entries}
    # A handful of strings every page, mail or form uses: an empty or truncated extraction shows up here.
    for msgid in (EMPTY_STATE_EN, "Security Response Center", "Report a vulnerability", "Software updates"):
        assert msgid in ids
    assert len(po_entries) > 500


def test_every_message_is_translated_and_none_is_fuzzy(po_entries: list[Entry]) -> None:
    untranslated = [_where(e) for e in po_entries if not e.msgstrs or any(not s.strip() for s in e.msgstrs.values())]
    fuzzy = [_where(e) for e in po_entries if "fuzzy" in e.flags]
    assert not untranslated, f"untranslated: {untranslated}"
    assert not fuzzy, f"fuzzy (check and translate, then drop the flag): {fuzzy}"


def test_chinese_has_one_plural_form(po_entries: list[Entry]) -> None:
    wrong = [_where(e) for e in po_entries if e.msgid_plural is not None and set(e.msgstrs) != {0}]
    assert not wrong, f"plural entries need exactly msgstr[0]: {wrong}"


def test_translations_keep_placeholders_and_markup(po_entries: list[Entry]) -> None:
    problems = []
    for entry in po_entries:
        for text in entry.msgstrs.values():
            for name, pattern in (("placeholders", PERCENT), ("braces", BRACES), ("tags", TAG)):
                if sorted(pattern.findall(entry.source)) != sorted(pattern.findall(text)):
                    problems.append(f"{_where(entry)}: {name} differ in {text!r}")
    assert not problems, "\n".join(problems)


def test_compiled_catalogue_matches_the_po(po_entries: list[Entry]) -> None:
    """The committed .mo holds exactly the .po's translations (run `psirt compilemessages` after editing)."""
    with MO_FILE.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    catalog: dict[object, str] = compiled._catalog  # type: ignore[attr-defined]
    stale = []
    for entry in po_entries:
        got = catalog.get((entry.key, 0) if entry.msgid_plural is not None else entry.key)
        if got != entry.msgstrs.get(0):
            stale.append(_where(entry))
    assert not stale, f".mo is out of date for: {stale[:20]} ({len(stale)} in all)"


def test_django_serves_the_catalogue_for_zh_hans(po_entries: list[Entry]) -> None:
    """Through Django's own lookup (LOCALE_PATHS, zh-hans -> zh_Hans): ours wins over Django's and allauth's."""
    singles = [e for e in po_entries if e.msgid_plural is None and e.context is None and "%" not in e.msgid]
    sample = singles[:: max(1, len(singles) // 20)][:20]
    assert len(sample) == 20
    with translation.override(LANGUAGE):
        assert [translation.gettext(e.msgid) for e in sample] == [e.msgstrs[0] for e in sample]
        assert translation.gettext(EMPTY_STATE_EN) == EMPTY_STATE_ZH
        plurals = [e for e in po_entries if e.msgid_plural is not None and e.context is None]
        for entry in plurals[:5]:
            assert entry.msgid_plural is not None
            assert translation.ngettext(entry.msgid, entry.msgid_plural, 5) == entry.msgstrs[0]


@pytest.mark.django_db
def test_empty_list_says_so_in_chinese(client: Client) -> None:
    response = client.get("/zh-hans/updates/")
    assert response.status_code == 200
    page = response.content.decode()
    assert EMPTY_STATE_ZH in page
    assert EMPTY_STATE_EN not in page

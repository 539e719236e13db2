"""`make lint`'s translation check (tools/messages.py): a string the code marks for translation that the Chinese
catalogue does not translate — never extracted, or only guessed from a similar string — is named; a translated
one, and a test's string, are not."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from psirt.tests.repo_tools import load_tool

pytestmark = pytest.mark.skipif(
    any(shutil.which(name) is None for name in ("xgettext", "msgmerge", "msgattrib")),
    reason="GNU gettext is not installed (CI installs it)",
)

tool = load_tool("messages")

HEADER = """msgid ""
msgstr ""
"Content-Type: text/plain; charset=UTF-8\\n"
"Plural-Forms: nplurals=1; plural=0;\\n"

"""


def package(root: Path, code: str, translations: dict[str, str]) -> Path:
    """A package with one module of `code`, a test module, and a catalogue holding `translations`."""
    (root / "app" / "tests").mkdir(parents=True)
    (root / "app" / "views.py").write_text(code, encoding="utf-8")
    (root / "app" / "tests" / "test_views.py").write_text('_("A fixture of a test")\n', encoding="utf-8")
    catalogue = root / tool.CATALOGUE
    catalogue.parent.mkdir(parents=True)
    entries = "".join(f'msgid "{en}"\nmsgstr "{zh}"\n\n' for en, zh in translations.items())
    catalogue.write_text(HEADER + entries, encoding="utf-8")
    return catalogue


def test_a_string_never_extracted_is_named_and_a_translated_one_is_not(tmp_path: Path) -> None:
    catalogue = package(
        tmp_path,
        'from django.utils.translation import gettext as _\n_("Report a vulnerability")\n_("Paused transports")\n',
        {"Report a vulnerability": "报告漏洞"},
    )
    tool.extract(tmp_path)
    missing = tool.missing_translations(catalogue)
    assert len(missing) == 1
    assert 'msgid "Paused transports"' in missing[0]
    assert "app/views.py" in missing[0]  # where it is, for whoever translates it
    # The catalogue now holds the new string (to be translated), still with the old translation.
    text = catalogue.read_text(encoding="utf-8")
    assert 'msgstr "报告漏洞"' in text and "A fixture of a test" not in text


def test_a_guess_from_a_similar_string_is_named(tmp_path: Path) -> None:
    # msgmerge fills a new string with the translation of a close one and marks it fuzzy; gettext never serves
    # a fuzzy entry, so the page would show English.
    catalogue = package(
        tmp_path,
        'from django.utils.translation import gettext_lazy as _\nlabel = _("next deadline")\n',
        {"Next deadline": "下一个期限"},
    )
    tool.extract(tmp_path)
    missing = tool.missing_translations(catalogue)
    assert len(missing) == 1
    assert "fuzzy" in missing[0] and 'msgid "next deadline"' in missing[0]


def test_the_check_fails_on_a_string_without_translation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package(tmp_path, 'from django.utils.translation import gettext as _\n_("Untranslated")\n', {})
    monkeypatch.setattr(tool, "PACKAGE", tmp_path)
    assert tool.check() == 1
    package_done = tmp_path / "done"
    package(package_done, 'from django.utils.translation import gettext as _\n_("Done")\n', {"Done": "完成"})
    monkeypatch.setattr(tool, "PACKAGE", package_done)
    assert tool.check() == 0

from pathlib import Path

from psirt.lib.variables import README_TABLE_START, readme_table, readme_with_table

README = Path(__file__).resolve().parents[3] / "README.md"


def test_readme_configuration_table_is_the_declared_variables() -> None:
    text = README.read_text(encoding="utf-8")
    assert README_TABLE_START + readme_table() in text
    assert readme_with_table(text) == text, "the README's environment table is stale: run `make docs-env`"

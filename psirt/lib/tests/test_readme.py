from pathlib import Path

from psirt.lib.config import VARIABLES

README = Path(__file__).resolve().parents[3] / "README.md"


def test_readme_documents_every_environment_variable() -> None:
    text = README.read_text(encoding="utf-8")
    missing = [name for name, _default, _meaning in VARIABLES if f"| `{name}` |" not in text]
    assert missing == [], f"add these to the README's configuration table: {missing}"

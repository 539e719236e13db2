"""PSIRT_APP_URL and PSIRT_STATIC_EXPORT_DIR: parsed strictly, safe when unset."""

from __future__ import annotations

from pathlib import Path

import pytest

from psirt.lib.config import ConfigError, load_config
from psirt.lib.tests.test_config import prod_env


def test_unset_the_app_is_the_public_address_and_no_folder_is_kept(tmp_path: Path) -> None:
    cfg = load_config(prod_env(), base_dir=tmp_path)
    assert cfg.app_url == cfg.base_url and cfg.static_export_dir is None


def test_values_are_read(tmp_path: Path) -> None:
    cfg = load_config(
        prod_env(PSIRT_APP_URL="https://app.example.com/", PSIRT_STATIC_EXPORT_DIR=str(tmp_path / "site")),
        base_dir=tmp_path,
    )
    assert cfg.app_url == "https://app.example.com" and cfg.static_export_dir == tmp_path / "site"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PSIRT_APP_URL", "http://app.example.com"),  # production needs https
        ("PSIRT_APP_URL", "javascript:alert(1)"),
        ("PSIRT_APP_URL", "https://app.example.com/?next=x"),
        ("PSIRT_APP_URL", "https://app.example.com/a b"),
        ("PSIRT_STATIC_EXPORT_DIR", "relative/site"),
    ],
)
def test_bad_values_stop_startup_naming_the_variable(tmp_path: Path, name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        load_config(prod_env(**{name: value}), base_dir=tmp_path)


def test_a_file_as_the_export_folder_is_refused(tmp_path: Path) -> None:
    afile = tmp_path / "file"
    afile.write_text("x")
    with pytest.raises(ConfigError, match="not a folder"):
        load_config(prod_env(PSIRT_STATIC_EXPORT_DIR=str(afile)), base_dir=tmp_path)

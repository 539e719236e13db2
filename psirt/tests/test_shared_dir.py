"""`PSIRT_SHARED_DIR`: the attachments and the CSAF tree in a folder every app server and worker shares, the rest
of the var dir each machine's own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from psirt.advisories.csaf.provider import provider_root
from psirt.lib.config import ConfigError, load_config, new_fernet_key
from psirt.lib.crypto import file_store
from psirt.lib.paths import shared_dir

PRODUCTION = {
    "SECRET_KEY": "s3cr3t-Jw7qP2xLk9VzR4mT8nB1cY6hG3fD0sQaE5uWo-Zi_Kv",
    "PSIRT_ENCRYPTION_KEYS": new_fernet_key(),
    "PSIRT_AUDIT_KEYS": new_fernet_key(),
    "ALLOWED_HOSTS": "security.example.com",
    "PSIRT_BASE_URL": "https://security.example.com",
    "EMAIL_URL": "smtp://mail.example.com",
}


def test_unset_means_the_var_dir(tmp_path: Path) -> None:
    assert load_config(PRODUCTION, base_dir=tmp_path).shared_dir is None


def test_an_absolute_folder_is_created_owner_only(tmp_path: Path) -> None:
    folder = tmp_path / "mnt" / "shared"
    cfg = load_config({**PRODUCTION, "PSIRT_SHARED_DIR": str(folder)}, base_dir=tmp_path)
    assert cfg.shared_dir == folder.resolve()
    assert folder.stat().st_mode & 0o777 == 0o700


@pytest.mark.parametrize("value", ["shared", "./var/shared", "../shared"])
def test_a_relative_folder_is_refused(tmp_path: Path, value: str) -> None:
    """Processes started from different folders would each resolve their own copy and share nothing."""
    with pytest.raises(ConfigError, match=r"PSIRT_SHARED_DIR=.* must be an absolute path"):
        load_config({**PRODUCTION, "PSIRT_SHARED_DIR": value}, base_dir=tmp_path)


def test_attachments_and_the_csaf_tree_go_to_the_shared_folder(settings: Any, tmp_path: Path) -> None:
    settings.PSIRT_VAR_DIR = tmp_path / "var"
    settings.PSIRT_SHARED_DIR = tmp_path / "shared"
    assert shared_dir() == tmp_path / "shared"
    assert provider_root() == tmp_path / "shared" / "csaf"
    stored = file_store().save([b"firmware dump"])
    assert [path.name for path in (tmp_path / "shared" / "files").rglob("*.enc")] == [stored.name]
    assert b"".join(file_store().open(stored.name)) == b"firmware dump"
    assert not (tmp_path / "var").exists()


def test_without_it_both_stay_in_the_var_dir(settings: Any, tmp_path: Path) -> None:
    settings.PSIRT_VAR_DIR = tmp_path / "var"
    settings.PSIRT_SHARED_DIR = None
    assert provider_root() == tmp_path / "var" / "csaf"
    assert file_store().root == tmp_path / "var" / "files"


def test_dev_mode_sees_attachments_in_the_shared_folder_as_stored_data(tmp_path: Path) -> None:
    """Development mode generates secrets only for an installation without data: attachments in the shared
    folder are data, so a var dir without its secrets is refused rather than given new keys."""
    shared = tmp_path / "shared"
    (shared / "files").mkdir(parents=True)
    (shared / "files" / "x-f.enc").write_bytes(b"ciphertext")
    env = {"PSIRT_DEV": "1", "PSIRT_VAR_DIR": str(tmp_path / "var"), "PSIRT_SHARED_DIR": str(shared)}
    with pytest.raises(ConfigError, match=r"x-f\.enc"):
        load_config(env, base_dir=tmp_path)


@pytest.mark.django_db
def test_a_read_only_shared_folder_makes_the_node_unready(settings: Any, tmp_path: Path) -> None:
    """A shared mount that went away or turned read-only: the node leaves the rotation before the next upload."""
    settings.PSIRT_VAR_DIR = tmp_path / "var"
    settings.PSIRT_VAR_DIR.mkdir()
    settings.PSIRT_SHARED_DIR = tmp_path / "unmounted"
    response = Client().get("/readyz")
    assert response.status_code == 503
    assert b"var: failed\n" in response.content
    settings.PSIRT_SHARED_DIR = Path("/proc")  # accepts no new file, even for root
    assert Client().get("/readyz").status_code == 503
    settings.PSIRT_SHARED_DIR = tmp_path / "var"
    assert Client().get("/readyz").status_code == 200

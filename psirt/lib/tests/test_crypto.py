"""Encryption at rest: text fields, chunked file store, key rotation, keyed hashes."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from hypothesis import given, settings
from hypothesis import strategies as st

from psirt.lib import crypto
from psirt.lib.config import new_fernet_key


def test_text_round_trip_and_ciphertext_differs_each_time() -> None:
    a, b = crypto.encrypt_text("hello 你好"), crypto.encrypt_text("hello 你好")
    assert a != b and "hello" not in a
    assert crypto.decrypt_text(a) == crypto.decrypt_text(b) == "hello 你好"
    assert crypto.encrypt_text("") == ""


def test_wrong_key_raises_instead_of_showing_ciphertext(settings) -> None:
    token = crypto.encrypt_text("secret")
    settings.PSIRT_ENCRYPTION_KEYS = (new_fernet_key(),)
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt_text(token)


def test_first_key_encrypts_and_all_keys_decrypt(settings) -> None:
    old, new = new_fernet_key(), new_fernet_key()
    settings.PSIRT_ENCRYPTION_KEYS = (old,)
    token = crypto.encrypt_text("rotate me")
    settings.PSIRT_ENCRYPTION_KEYS = (new, old)
    assert crypto.decrypt_text(token) == "rotate me"
    fresh = crypto.encrypt_text("new")
    assert Fernet(new.encode()).decrypt(fresh.encode()) == b"new"


@settings(max_examples=30, deadline=None)
@given(st.lists(st.binary(max_size=3000), max_size=6), st.integers(min_value=1, max_value=4096))
def test_file_store_round_trips_any_chunking(tmp_path_factory, chunks, chunk_size) -> None:
    store = crypto.EncryptedFileStore(tmp_path_factory.mktemp("files"))
    original = crypto.CHUNK_SIZE
    crypto.CHUNK_SIZE = chunk_size
    try:
        stored = store.save(chunks)
    finally:
        crypto.CHUNK_SIZE = original
    data = b"".join(chunks)
    assert store.read(stored.name) == data and stored.size == len(data)


def test_stored_file_holds_no_plaintext_and_detects_tampering(tmp_path) -> None:
    store = crypto.EncryptedFileStore(tmp_path)
    original = crypto.CHUNK_SIZE
    crypto.CHUNK_SIZE = 16
    try:
        stored = store.save([b"PLAINTEXT-MARKER " * 4])
    finally:
        crypto.CHUNK_SIZE = original
    path = next(tmp_path.rglob("*.enc"))
    raw = path.read_bytes()
    assert b"PLAINTEXT" not in raw
    # Cut off the last chunk: detected, not silently shorter.
    head = raw[: crypto.FILE_HEADER_SIZE]
    body = raw[crypto.FILE_HEADER_SIZE :]
    length = int.from_bytes(body[:4], "big")
    path.write_bytes(head + body[: 4 + length])
    with pytest.raises(crypto.DecryptionError):
        store.read(stored.name)


def test_rotation_re_encrypts_files_with_the_first_key(tmp_path, settings) -> None:
    old, new = new_fernet_key(), new_fernet_key()
    settings.PSIRT_ENCRYPTION_KEYS = (old,)
    store = crypto.EncryptedFileStore(tmp_path)
    stored = store.save([b"data"])
    settings.PSIRT_ENCRYPTION_KEYS = (new, old)
    store.rotate(stored.name)
    settings.PSIRT_ENCRYPTION_KEYS = (new,)
    assert store.read(stored.name) == b"data"


@pytest.mark.django_db
def test_rotate_all_re_encrypts_every_encrypted_column(settings) -> None:
    from psirt.intake.models import Report
    from psirt.intake.services import ReportInput, submit_report
    from psirt.organization.queries import key_problem

    # The old keys include those the test database's key canary was made with: every row must be rotated.
    old, new = (new_fernet_key(), *settings.PSIRT_ENCRYPTION_KEYS), new_fernet_key()
    settings.PSIRT_ENCRYPTION_KEYS = old
    data = ReportInput(reporter_name="Ada", reporter_email="a@x.test", description="text")
    submit_report(data=data, send_acknowledgment=False)
    settings.PSIRT_ENCRYPTION_KEYS = (new, *old)
    report = crypto.rotate_all()
    assert report.rows >= 1
    settings.PSIRT_ENCRYPTION_KEYS = (new,)
    assert Report.objects.get().description == "text"
    assert key_problem() is None  # the key canary was rotated with the rest


@pytest.mark.parametrize("name", ["", "../x", "a/b", ".hidden", "x\0y", "a\\b"])
def test_file_store_refuses_names_that_are_not_its_own(tmp_path, name) -> None:
    store = crypto.EncryptedFileStore(tmp_path)
    with pytest.raises(ValueError):
        store.read(name)
    assert not store.exists(name)


def test_keyed_hash_depends_on_purpose_and_secret(settings) -> None:
    a = crypto.keyed_hash("ada@x.test", purpose="one")
    assert a != crypto.keyed_hash("ada@x.test", purpose="two")
    settings.SECRET_KEY = "another-secret-" * 5
    assert a != crypto.keyed_hash("ada@x.test", purpose="one")


def test_sealed_text_is_plain_text_to_python_and_its_early_token_to_the_database() -> None:
    sealed = crypto.seal("secret report text")
    assert sealed == "secret report text"
    assert str(sealed) == "secret report text" and type(str(sealed)) is str
    stored = crypto.EncryptedTextField().get_prep_value(sealed)
    assert stored == sealed.token  # type: ignore[attr-defined]
    assert "secret" not in stored
    assert crypto.decrypt_text(stored) == "secret report text"
    # A value derived from it is a new plain str, encrypted afresh when saved.
    derived = sealed.upper()
    assert type(derived) is str
    assert crypto.decrypt_text(crypto.EncryptedTextField().get_prep_value(derived)) == "SECRET REPORT TEXT"

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
    with pytest.raises(ValueError, match=r"^bad storage name$"):
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


def test_an_empty_value_stays_empty_both_ways() -> None:
    assert crypto.encrypt_text("") == "" and crypto.decrypt_text("") == ""


def test_without_any_key_nothing_is_encrypted_or_decrypted(settings) -> None:
    token = crypto.encrypt_text("secret")
    settings.PSIRT_ENCRYPTION_KEYS = ()
    for attempt in (lambda: crypto.encrypt_text("secret"), lambda: crypto.decrypt_text(token)):
        with pytest.raises(crypto.DecryptionError) as info:
            attempt()
        assert str(info.value) == "PSIRT_ENCRYPTION_KEYS is empty: no key to encrypt or decrypt with."


def test_a_value_that_is_not_a_token_of_our_keys_is_refused_with_a_message() -> None:
    with pytest.raises(crypto.DecryptionError) as info:
        crypto.decrypt_text("not a token")
    assert str(info.value) == "Data cannot be decrypted with the configured keys."


def test_the_keyed_hash_of_a_value_never_changes(settings) -> None:
    # Rows are found by these hashes long after they were stored: the same secret, purpose and value must give
    # the same hash in every release (HMAC-SHA256 under a key derived from SECRET_KEY and the purpose).
    settings.SECRET_KEY = "pinned-secret-key-" * 3
    assert crypto.keyed_hash("ada@example.test", purpose="reporter-email") == (
        "4713f7e455214be0bc2a62c9b08fdf976c639b80547fb4ca6a122b4db4b93648"
    )
    assert crypto.keyed_hash("报告人@例子.测试", purpose="reporter-email") == (
        "cc1292029cd88d4d3b4142323a277d7623dca9e9754bac97abfd050af111415a"
    )
    assert crypto.keyed_hash("ada@example.test", purpose="ip") == (
        "3cc4b20771b252284815098545b70814046fffe31c71a9ba7100c51defcd138b"
    )


def test_an_encrypted_column_keeps_null_as_null() -> None:
    field = crypto.EncryptedTextField(null=True)
    assert field.from_db_value(None, None, None) is None
    assert field.get_prep_value(None) is None
    assert field.get_db_prep_save(None, None) is None
    stored = field.get_db_prep_save("text 文本", None)
    assert "text" not in stored and field.from_db_value(stored, None, None) == "text 文本"


@pytest.fixture
def webhooks(settings, tmp_path):  # type: ignore[no-untyped-def]
    """Three rows with an encrypted column, made with an old key that is then rotated out."""
    from psirt.notify.models import Webhook

    settings.PSIRT_SHARED_DIR = str(tmp_path)
    old = (new_fernet_key(), *settings.PSIRT_ENCRYPTION_KEYS)
    settings.PSIRT_ENCRYPTION_KEYS = old
    made = [Webhook.objects.create(name=n, url=f"https://{n}.test/", secret=f"secret {n}") for n in "abc"]
    new = new_fernet_key()
    settings.PSIRT_ENCRYPTION_KEYS = (new, *old)
    return made, new


def rows_with_encrypted_columns() -> int:
    return sum(model._default_manager.count() for model in {model for model, _ in crypto.encrypted_columns()})


@pytest.mark.django_db
def test_rotate_all_counts_every_row_once_and_every_file_it_rewrote(settings, webhooks) -> None:
    from psirt.notify.models import Webhook

    made, new = webhooks
    store = crypto.file_store()
    files = [store.save([f"file {n}".encode()]).name for n in range(2)]
    # A column naming stored files: here the webhooks' name, two naming a file, one naming none on disk, and an
    # empty one that names nothing.
    Webhook.objects.filter(pk=made[0].pk).update(name=files[0])
    Webhook.objects.filter(pk=made[1].pk).update(name=files[1])
    Webhook.objects.filter(pk=made[2].pk).update(name="0" * 32 + "-f.enc")
    Webhook.objects.create(name="", url="https://empty.test/", secret="secret empty")
    rows = rows_with_encrypted_columns()
    assert crypto.rotate_all(file_fields=[(Webhook, "name")]) == crypto.RotationReport(rows=rows, files=2)
    settings.PSIRT_ENCRYPTION_KEYS = (new,)
    assert [store.read(name) for name in files] == [b"file 0", b"file 1"]
    assert sorted(Webhook.objects.values_list("secret", flat=True)) == [
        "secret a",
        "secret b",
        "secret c",
        "secret empty",
    ]
    # Safe to run twice.
    assert crypto.rotate_all(file_fields=[(Webhook, "name")]) == crypto.RotationReport(rows=rows, files=2)


@pytest.mark.django_db
def test_rotate_all_goes_on_past_a_row_deleted_while_it_runs(settings, webhooks) -> None:
    from django.db.models.signals import post_save

    from psirt.notify.models import Webhook

    made, new = webhooks
    rows = rows_with_encrypted_columns()

    def delete_the_next(sender: type[Webhook], instance: Webhook, **kwargs: object) -> None:
        if instance.pk == made[0].pk:
            Webhook.objects.filter(pk=made[1].pk).delete()

    post_save.connect(delete_the_next, sender=Webhook)
    try:
        report = crypto.rotate_all()
    finally:
        post_save.disconnect(delete_the_next, sender=Webhook)
    assert report == crypto.RotationReport(rows=rows - 1, files=0)
    settings.PSIRT_ENCRYPTION_KEYS = (new,)
    assert sorted(Webhook.objects.values_list("secret", flat=True)) == ["secret a", "secret c"]


@pytest.mark.django_db
def test_rotate_all_changes_nothing_but_the_ciphertext() -> None:
    import datetime as dt

    from psirt.notify.models import Subscription

    row = Subscription.objects.create(email="ada@x.test", email_hash="0" * 64)
    long_ago = dt.datetime(2020, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    Subscription.objects.filter(pk=row.pk).update(updated_at=long_ago)
    crypto.rotate_all()
    row.refresh_from_db()
    assert row.updated_at == long_ago and row.email == "ada@x.test"

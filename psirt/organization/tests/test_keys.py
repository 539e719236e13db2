"""The key canary: keys that cannot read the stored data are refused by the checks and at start-up."""

from __future__ import annotations

import pytest
from django.core.checks import Error
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.db import connection

from psirt import cli
from psirt.lib.config import new_fernet_key
from psirt.organization.checks import encryption_keys_check
from psirt.organization.exceptions import KeysDoNotMatch
from psirt.organization.models import KEY_CANARY_TEXT, KeyCanary
from psirt.organization.queries import key_problem
from psirt.organization.services import ensure_key_canary
from psirt.tests.factories import make_report

pytestmark = pytest.mark.django_db


def test_migrate_stores_the_canary_encrypted_and_the_keys_pass() -> None:
    canary = KeyCanary.objects.get()
    assert canary.value == KEY_CANARY_TEXT
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT value FROM {KeyCanary._meta.db_table}")
        (stored,) = cursor.fetchone()
    assert "canary" not in stored  # ciphertext in the database
    assert key_problem() is None
    assert encryption_keys_check() == []


def test_other_keys_are_refused_by_the_check_and_by_every_command(settings) -> None:
    settings.PSIRT_ENCRYPTION_KEYS = (new_fernet_key(),)
    messages = encryption_keys_check()
    assert len(messages) == 1 and isinstance(messages[0], Error) and messages[0].id == "psirt.E001"
    assert "canary cannot be decrypted" in messages[0].msg
    with pytest.raises(SystemCheckError, match=r"psirt\.E001"):
        call_command("check")
    with pytest.raises(SystemCheckError, match=r"psirt\.E001"):
        call_command("check", "--deploy")


@pytest.mark.parametrize("command", sorted(cli.LONG_RUNNING))
def test_long_running_commands_refuse_to_start_with_other_keys(settings, monkeypatch, capsys, command) -> None:
    def must_not_start(*args: object, **kwargs: object) -> None:
        raise AssertionError("started with keys that cannot read the data")

    for name in ("_up", "_django"):
        monkeypatch.setattr(cli, name, must_not_start)
    monkeypatch.setattr(cli.os, "execv", must_not_start)
    monkeypatch.setattr(cli.schedule, "run_forever", must_not_start)
    settings.PSIRT_ENCRYPTION_KEYS = (new_fernet_key(),)
    assert cli.main([command]) == 2
    err = capsys.readouterr().err
    assert "PSIRT_ENCRYPTION_KEYS do not match the stored data" in err and "psirt rotatekeys" in err


def test_a_rotation_keeps_the_canary_readable(settings) -> None:
    old = tuple(settings.PSIRT_ENCRYPTION_KEYS)
    new = new_fernet_key()
    settings.PSIRT_ENCRYPTION_KEYS = (new, *old)
    assert key_problem() is None  # the old key still decrypts during a rotation
    settings.PSIRT_ENCRYPTION_KEYS = (new,)
    assert key_problem() is not None  # dropping the old key before `rotatekeys` is refused


def test_a_canary_with_a_wrong_value_is_refused() -> None:
    KeyCanary.objects.filter(pk=1).update(value=KeyCanary._meta.get_field("value").get_prep_value("something else"))
    assert "wrong value" in (key_problem() or "")


def test_without_a_canary_the_stored_data_itself_is_tried(settings) -> None:
    KeyCanary.objects.all().delete()
    make_report()
    assert key_problem() is None
    settings.PSIRT_ENCRYPTION_KEYS = (new_fernet_key(),)
    problem = key_problem() or ""
    assert "cannot be decrypted" in problem and "intake." in problem
    # The canary is never made with keys that cannot read what is stored: that would hide the mismatch for ever.
    with pytest.raises(KeysDoNotMatch):
        ensure_key_canary()
    assert not KeyCanary.objects.exists()


def test_without_a_canary_or_data_the_canary_is_stored_once() -> None:
    KeyCanary.objects.all().delete()
    first = ensure_key_canary()
    assert ensure_key_canary().pk == first.pk == 1 and KeyCanary.objects.count() == 1
    assert key_problem() is None

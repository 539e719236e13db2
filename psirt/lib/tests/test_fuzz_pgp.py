"""Hypothesis over the OpenPGP armor readers, which see text pasted or mailed by strangers: a reporter's public
key, an armored message in a report or a mail. Arbitrary text, armor around arbitrary bytes, and a real key or
message with bytes changed are answered with `PgpError` / `KeyProblem` (a message a person can act on) or a
result, never another exception. Bounded: a fixed number of examples, derandomized, no example database."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pysequoia
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from psirt.lib.pgp import (
    KeyProblem,
    PgpError,
    check_public_key,
    decrypt_with_team_key,
    find_armored_message,
    is_armored_message,
    validate_public_key,
)

FUZZ = settings(
    max_examples=40,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
KEY = pysequoia.Tsk.generate("PSIRT <security@example.com>")
PUBLIC = str(KEY.extract_certificate())
MESSAGE = pysequoia.encrypt(b"the secret", recipients=[KEY.extract_certificate()]).decode()


def armor(kind: str, payload: bytes, extra: str = "") -> str:
    body = base64.b64encode(payload).decode()
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return f"-----BEGIN PGP {kind}-----\n{extra}\n" + "\n".join(lines) + f"\n-----END PGP {kind}-----\n"


@st.composite
def mutated(draw: Any, text: str) -> str:
    chars = list(text)
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        i = draw(st.integers(min_value=0, max_value=len(chars) - 1))
        chars[i] = draw(st.sampled_from("AZaz09+/=-\n :"))
    return "".join(chars)


key_texts = st.one_of(
    st.text(max_size=300),
    st.builds(armor, st.just("PUBLIC KEY BLOCK"), st.binary(max_size=300), st.text(max_size=30)),
    mutated(PUBLIC),
)


def _key(text: str) -> None:
    try:
        info = validate_public_key(text)
        assert info.fingerprint
    except PgpError as exc:
        assert str(exc)
    try:
        check_public_key(text)
    except KeyProblem as exc:
        assert str(exc.message)


@FUZZ
@given(text=key_texts)
def test_public_keys_are_read_or_refused(text: str) -> None:
    _key(text)


message_texts = st.one_of(
    st.text(max_size=300),
    st.builds(armor, st.just("MESSAGE"), st.binary(max_size=300), st.text(max_size=30)),
    mutated(MESSAGE),
)


@pytest.fixture
def team_key_file(tmp_path: Path, settings: Any) -> None:
    path = tmp_path / "team.asc"
    path.write_text(str(KEY))
    settings.PSIRT_TEAM_KEY_FILE = str(path)


@FUZZ
@given(text=message_texts)
def test_armored_messages_are_decrypted_or_refused(text: str, team_key_file: None) -> None:
    found = find_armored_message(text)
    assert found is None or found in text
    is_armored_message(text)
    try:
        decrypt_with_team_key(text)
    except PgpError as exc:
        assert str(exc)


def test_the_real_message_decrypts(team_key_file: None) -> None:
    # The mutations above start from a message the team key does read.
    assert decrypt_with_team_key(MESSAGE) == "the secret"

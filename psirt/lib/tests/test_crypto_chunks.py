"""An encrypted file is read back exactly as written or not at all: reordering, dropping, duplicating or
cutting its chunks, adding anything after the last, or putting in a chunk of another file, is refused (each chunk
carries the file's random id, its number and a last-chunk flag inside its authenticated token)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from psirt.lib import crypto

Frames = list[bytes]


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(crypto, "CHUNK_SIZE", 16)
    yield


def frames_of(raw: bytes) -> Frames:
    """The length-prefixed tokens after the file's magic and id, each with its length prefix."""
    body, frames = raw[crypto.FILE_HEADER_SIZE :], []
    while body:
        length = int.from_bytes(body[:4], "big")
        frames.append(body[: 4 + length])
        body = body[4 + length :]
    return frames


def stored(tmp_path: Path, data: bytes) -> tuple[crypto.EncryptedFileStore, str, Path]:
    store = crypto.EncryptedFileStore(tmp_path)
    name = store.save([data]).name
    (path,) = tmp_path.rglob("*.enc")
    return store, name, path


DATA = b"".join(f"chunk {i:02d} of the file.".encode()[:16].ljust(16, b"-") for i in range(4)) + b"tail"

ALTERATIONS: dict[str, Callable[[Frames], Frames]] = {
    "two chunks swapped": lambda f: [f[0], f[2], f[1], *f[3:]],
    "a middle chunk dropped": lambda f: [f[0], *f[2:]],
    "the first chunk dropped": lambda f: f[1:],
    "the last chunk dropped": lambda f: f[:-1],
    "a chunk duplicated": lambda f: [f[0], f[1], f[1], *f[2:]],
    "the last chunk repeated after itself": lambda f: [*f, f[-1]],
    "a chunk of the file appended after the last": lambda f: [*f, f[0]],
    "the last chunk moved to the front": lambda f: [f[-1], *f[:-1]],
    "no chunk at all": lambda f: [],
    "the last token cut short": lambda f: [*f[:-1], f[-1][:-10]],
    "the last length prefix cut short": lambda f: [*f[:-1], f[-1][:2]],
    "one stray byte after the last chunk": lambda f: [*f, b"\x00"],
}
OUT_OF_ORDER = "The encrypted file's chunks are out of order."
TRUNCATED = "The encrypted file is truncated."
AFTER_THE_LAST = "The encrypted file has data after its last chunk."
# What the refusal says: the reader names the first thing that is wrong.
REASONS = {
    "two chunks swapped": OUT_OF_ORDER,
    "a middle chunk dropped": OUT_OF_ORDER,
    "the first chunk dropped": OUT_OF_ORDER,
    "the last chunk dropped": TRUNCATED,
    "a chunk duplicated": OUT_OF_ORDER,
    "the last chunk repeated after itself": AFTER_THE_LAST,
    "a chunk of the file appended after the last": AFTER_THE_LAST,
    "the last chunk moved to the front": OUT_OF_ORDER,
    "no chunk at all": TRUNCATED,
    "the last token cut short": "Data cannot be decrypted with the configured keys.",
    "the last length prefix cut short": TRUNCATED,
    "one stray byte after the last chunk": AFTER_THE_LAST,
}


@pytest.mark.parametrize("alteration", ALTERATIONS, ids=list(ALTERATIONS))
def test_an_altered_chunk_sequence_is_refused(small_chunks: None, tmp_path: Path, alteration: str) -> None:
    store, name, path = stored(tmp_path, DATA)
    raw = path.read_bytes()
    frames = frames_of(raw)
    assert len(frames) == 5 and store.read(name) == DATA
    path.write_bytes(raw[: crypto.FILE_HEADER_SIZE] + b"".join(ALTERATIONS[alteration](frames)))
    with pytest.raises(crypto.DecryptionError) as info:
        store.read(name)
    assert str(info.value) == REASONS[alteration]


def test_a_chunk_flipped_by_one_bit_is_refused(small_chunks: None, tmp_path: Path) -> None:
    store, name, path = stored(tmp_path, DATA)
    raw = bytearray(path.read_bytes())
    raw[crypto.FILE_HEADER_SIZE + 40] ^= 1
    path.write_bytes(bytes(raw))
    with pytest.raises(crypto.DecryptionError):
        store.read(name)


def test_a_file_without_the_magic_is_refused(small_chunks: None, tmp_path: Path) -> None:
    store, name, path = stored(tmp_path, DATA)
    path.write_bytes(path.read_bytes()[len(crypto.FILE_MAGIC) :])
    with pytest.raises(crypto.DecryptionError) as info:
        store.read(name)
    assert str(info.value) == "Not an encrypted psirt file."


def test_a_file_of_another_format_version_is_refused_whole_chunks_or_not(small_chunks: None, tmp_path: Path) -> None:
    store, name, path = stored(tmp_path, DATA)
    other = b"PSIRTENC0\n"
    assert len(other) == len(crypto.FILE_MAGIC) and other != crypto.FILE_MAGIC
    path.write_bytes(other + path.read_bytes()[len(crypto.FILE_MAGIC) :])
    with pytest.raises(crypto.DecryptionError):
        store.read(name)
    with pytest.raises(crypto.DecryptionError):
        store.rotate(name)
    assert path.read_bytes().startswith(other)  # left as it was


@pytest.mark.parametrize("size", [0, 1, 15, 16, 17, 32, 33, 64])
def test_every_length_around_the_chunk_size_reads_back_whole(small_chunks: None, tmp_path: Path, size: int) -> None:
    data = bytes(range(256))[:size]
    store, name, path = stored(tmp_path, data)
    assert store.read(name) == data
    # One chunk per started 16 bytes, and always a last one (an empty file is one empty chunk).
    assert len(frames_of(path.read_bytes())) == max(1, -(-size // 16))


def test_a_spooled_upload_is_held_to_the_same_rules(small_chunks: None, tmp_path: Path) -> None:
    store = crypto.EncryptedFileStore(tmp_path)
    spool = store.spool()
    for piece in (DATA[:5], DATA[5:40], DATA[40:]):
        spool.write(piece)
    spool.finish()
    assert b"".join(spool.open()) == DATA
    raw = spool.path.read_bytes()
    frames = frames_of(raw)
    spool.path.write_bytes(raw[: crypto.FILE_HEADER_SIZE] + b"".join([frames[0], frames[2], frames[1], *frames[3:]]))
    with pytest.raises(crypto.DecryptionError):
        b"".join(spool.open())
    spool.discard()


def test_a_key_rotation_refuses_a_file_cut_inside_a_length_prefix(small_chunks: None, tmp_path: Path) -> None:
    store, name, path = stored(tmp_path, DATA)
    path.write_bytes(path.read_bytes() + b"\x00\x00")
    with pytest.raises(crypto.DecryptionError):
        store.rotate(name)
    assert path.read_bytes().endswith(b"\x00\x00")  # the file is left as it was


def test_a_chunk_of_another_file_at_the_same_place_is_refused(small_chunks: None, tmp_path: Path) -> None:
    store = crypto.EncryptedFileStore(tmp_path)
    mine, theirs = store.save([DATA]), store.save([DATA.upper()])
    mine_path, theirs_path = (next(tmp_path.rglob(f"{s.name.split('/')[-1]}*")) for s in (mine, theirs))
    raw = mine_path.read_bytes()
    frames, foreign = frames_of(raw), frames_of(theirs_path.read_bytes())
    mine_path.write_bytes(raw[: crypto.FILE_HEADER_SIZE] + b"".join([frames[0], foreign[1], *frames[2:]]))
    with pytest.raises(crypto.DecryptionError) as info:
        store.read(mine.name)
    assert str(info.value) == "A chunk of another encrypted file was put into this one."
    with pytest.raises(crypto.DecryptionError):
        store.rotate(mine.name)


def test_a_changed_file_id_is_refused(small_chunks: None, tmp_path: Path) -> None:
    store, name, path = stored(tmp_path, DATA)
    raw = bytearray(path.read_bytes())
    raw[len(crypto.FILE_MAGIC)] ^= 1  # the id in clear no longer matches the id inside the tokens
    path.write_bytes(bytes(raw))
    with pytest.raises(crypto.DecryptionError):
        store.read(name)


def first_format(data: bytes, size: int = 16) -> bytes:
    """A file as the first format wrote it: no file id, chunk number and last flag inside each token."""
    pieces = [data[i : i + size] for i in range(0, len(data), size)] or [b""]
    frames = []
    for index, piece in enumerate(pieces):
        token = crypto.encrypt_bytes(crypto._HEADER_V1.pack(index, int(index == len(pieces) - 1)) + piece)
        frames.append(len(token).to_bytes(4, "big") + token)
    return crypto.FILE_MAGIC_V1 + b"".join(frames)


def test_a_file_of_the_first_format_is_read_and_rotation_rewrites_it_in_the_current_one(
    small_chunks: None, tmp_path: Path
) -> None:
    store, name, path = stored(tmp_path, b"")
    path.write_bytes(first_format(DATA))
    assert store.read(name) == DATA
    store.rotate(name)
    raw = path.read_bytes()
    assert raw.startswith(crypto.FILE_MAGIC) and store.read(name) == DATA
    assert len(frames_of(raw)) == 5


def test_a_file_of_the_first_format_is_still_held_to_its_rules(small_chunks: None, tmp_path: Path) -> None:
    store, name, path = stored(tmp_path, b"")
    raw = first_format(DATA)
    frames = frames_of(crypto.FILE_MAGIC + bytes(crypto.FILE_ID_SIZE) + raw[len(crypto.FILE_MAGIC_V1) :])
    path.write_bytes(crypto.FILE_MAGIC_V1 + b"".join([frames[1], frames[0], *frames[2:]]))
    with pytest.raises(crypto.DecryptionError, match="out of order"):
        store.read(name)


def test_a_file_cut_inside_its_id_is_refused(small_chunks: None, tmp_path: Path) -> None:
    store, name, path = stored(tmp_path, DATA)
    path.write_bytes(path.read_bytes()[: crypto.FILE_HEADER_SIZE - 1])
    with pytest.raises(crypto.DecryptionError) as info:
        store.read(name)
    assert str(info.value) == TRUNCATED


def test_a_chunk_too_short_to_hold_its_header_is_refused(small_chunks: None, tmp_path: Path) -> None:
    store, name, path = stored(tmp_path, DATA)
    raw = path.read_bytes()
    token = crypto.encrypt_bytes(bytes(crypto._HEADER.size - 1))  # a valid token of the right key, too short
    path.write_bytes(raw[: crypto.FILE_HEADER_SIZE] + len(token).to_bytes(4, "big") + token)
    with pytest.raises(crypto.DecryptionError) as info:
        store.read(name)
    assert str(info.value) == "A file chunk has no header."


def test_a_chunk_of_exactly_its_header_is_an_empty_chunk(small_chunks: None, tmp_path: Path) -> None:
    store, name, path = stored(tmp_path, b"")
    assert store.read(name) == b""
    assert [len(crypto.decrypt_bytes(f[4:])) for f in frames_of(path.read_bytes())] == [crypto._HEADER.size]

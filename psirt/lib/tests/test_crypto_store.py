"""The encrypted file store on disk: where files go, how they are written (a private temporary file renamed into
place), what the sweeps remove and list, and the spool that receives an upload piece by piece."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest

from psirt.lib import crypto
from psirt.lib.paths import shared_dir

HOUR = dt.timedelta(hours=1)
NOW = 1_800_000_000.0


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(crypto, "CHUNK_SIZE", 16)
    yield


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def aged(path: Path, mtime: float) -> Path:
    os.utime(path, (mtime, mtime))
    return path


# Where files go and how they are named.


def test_a_stored_file_is_named_by_128_random_bits_and_kept_under_their_first_two_hex_digits(tmp_path: Path) -> None:
    store = crypto.EncryptedFileStore(tmp_path / "files")
    one, two = store.save([b"a"]), store.save([b"a"], prefix="reg")
    assert re.fullmatch(r"[0-9a-f]{32}-f\.enc", one.name)
    assert re.fullmatch(r"[0-9a-f]{32}-reg\.enc", two.name)
    assert one.name != two.name
    # The layout backups and restores rely on: files/<first two characters>/<name>.
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*.enc")) == sorted(
        Path("files", s.name[:2], s.name) for s in (one, two)
    )


def test_the_folder_of_a_name_is_its_first_two_characters_before_any_dash(tmp_path: Path) -> None:
    store = crypto.EncryptedFileStore(tmp_path)
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "a-x.enc").write_bytes(b"")
    (tmp_path / "a" / "a-x-y.enc").write_bytes(b"")
    (tmp_path / "ab").mkdir()
    (tmp_path / "ab" / "abc-x.enc").write_bytes(b"")
    assert store.exists("a-x.enc") and store.exists("a-x-y.enc") and store.exists("abc-x.enc")
    assert not store.exists("ab-y.enc")


def test_what_save_returns_is_the_plaintext_size_and_sha256(tmp_path: Path) -> None:
    store = crypto.EncryptedFileStore(tmp_path)
    chunks = [b"first ", "第二".encode(), b"", b" third"]
    saved = store.save(chunks)
    data = b"".join(chunks)
    assert saved == crypto.StoredFile(name=saved.name, size=len(data), sha256=hashlib.sha256(data).hexdigest())
    assert store.read(saved.name) == data == b"".join(store.open(saved.name))


def test_stored_files_and_their_folders_are_private(tmp_path: Path) -> None:
    store = crypto.EncryptedFileStore(tmp_path / "files")
    saved = store.save([b"secret"])
    (path,) = (tmp_path / "files").rglob("*.enc")
    assert mode(path) == 0o600
    assert mode(path.parent) == 0o700
    spool = store.spool()
    assert mode(spool.path.parent) == 0o700
    assert mode(spool.path) == 0o600
    spool.discard()
    assert store.read(saved.name) == b"secret"


def test_a_second_store_on_the_same_folder_writes_beside_the_first(tmp_path: Path) -> None:
    first, second = crypto.EncryptedFileStore(tmp_path), crypto.EncryptedFileStore(tmp_path)
    names = [first.save([b"1"]).name, second.save([b"2"]).name]
    spools = [first.spool(), second.spool()]
    assert [first.read(n) for n in names] == [b"1", b"2"]
    assert spools[0].path.parent == spools[1].path.parent == tmp_path / "spool"
    for spool in spools:
        spool.discard()


def test_a_store_whose_folders_were_removed_makes_them_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    tokens = iter(["ab" + "0" * 30, "ab" + "1" * 30])
    monkeypatch.setattr(crypto.secrets, "token_hex", lambda n: next(tokens))
    store = crypto.EncryptedFileStore(tmp_path / "files")
    first = store.save([b"x"]).name
    store.spool().discard()
    shutil.rmtree(tmp_path / "files")  # cleaned up by hand while the store was in use
    second = store.save([b"y"]).name
    spool = store.spool()
    assert first[:2] == second[:2] == "ab" and store.read(second) == b"y"
    assert mode(tmp_path / "files" / "ab") == 0o700
    assert mode(tmp_path / "files" / "spool") == 0o700
    assert [p.name for p in (tmp_path / "files" / "ab").iterdir()] == [second]
    assert [p.name for p in (tmp_path / "files" / "spool").iterdir()] == [spool.path.name]
    assert spool.path.name.startswith(".tmp-upload-")
    spool.discard()


def test_a_folder_made_again_by_another_process_first_is_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = crypto.EncryptedFileStore(tmp_path)
    store.spool().discard()
    mkstemp, gone = crypto.tempfile.mkstemp, [True]

    def folder_gone_then_made_again(**kwargs: str) -> tuple[int, str]:
        if gone.pop() if gone else False:
            raise FileNotFoundError(kwargs["dir"])  # by the time we look again, another process has made it
        return mkstemp(**kwargs)  # type: ignore[call-overload,no-any-return]

    monkeypatch.setattr(crypto.tempfile, "mkstemp", folder_gone_then_made_again)
    spool = store.spool()
    assert spool.path.parent == tmp_path / "spool" and not gone
    spool.discard()


def test_the_default_store_is_files_in_the_shared_folder_one_per_folder(settings, tmp_path: Path) -> None:
    settings.PSIRT_SHARED_DIR = str(tmp_path / "one")
    store = crypto.file_store()
    assert store is crypto.file_store()
    assert store.root == tmp_path / "one" / "files"
    assert crypto.EncryptedFileStore().root == tmp_path / "one" / "files"
    name = store.save([b"x"]).name
    assert (tmp_path / "one" / "files" / name[:2] / name).is_file()
    settings.PSIRT_SHARED_DIR = str(tmp_path / "two")
    assert crypto.file_store() is not store
    assert store.root == tmp_path / "one" / "files"  # a store held across the change stays on its folder
    assert crypto.file_store().root == shared_dir() / "files" == tmp_path / "two" / "files"


# Writing: a temporary file beside the target, renamed into place once complete.


def test_a_file_being_written_is_a_temporary_file_beside_its_final_place(tmp_path: Path) -> None:
    store = crypto.EncryptedFileStore(tmp_path)
    seen: list[list[str]] = []

    def chunks() -> Iterator[bytes]:
        yield b"one"
        seen.append([p.name for p in tmp_path.rglob("*") if p.is_file()])
        yield b"two"

    saved = store.save(chunks())
    ((name,),) = seen
    assert name.startswith(".tmp-") and (tmp_path / saved.name[:2] / name).parent == (tmp_path / saved.name[:2])
    assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == [saved.name]
    assert next(tmp_path.rglob(saved.name)).parent == tmp_path / saved.name[:2]


def test_a_failed_write_leaves_nothing_behind(tmp_path: Path) -> None:
    store = crypto.EncryptedFileStore(tmp_path)

    def chunks() -> Iterator[bytes]:
        yield b"one"
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        store.save(chunks())
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_a_rotation_writes_a_temporary_file_beside_the_file_and_renames_it_over(
    settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from psirt.lib.config import new_fernet_key

    store = crypto.EncryptedFileStore(tmp_path)
    saved = store.save([b"data"])
    path = tmp_path / saved.name[:2] / saved.name
    before = path.read_bytes()
    seen: list[list[str]] = []
    finish = crypto._ChunkWriter.finish

    def watching(writer: crypto._ChunkWriter) -> None:
        seen.append(sorted(p.name for p in path.parent.iterdir()))
        finish(writer)

    monkeypatch.setattr(crypto._ChunkWriter, "finish", watching)
    settings.PSIRT_ENCRYPTION_KEYS = (new_fernet_key(), *settings.PSIRT_ENCRYPTION_KEYS)
    store.rotate(saved.name)
    ((temporary, final),) = seen
    assert temporary.startswith(".tmp-") and final == saved.name
    assert sorted(p.name for p in path.parent.iterdir()) == [saved.name]
    assert mode(path) == 0o600
    after = path.read_bytes()
    assert after != before and after[: len(crypto.FILE_MAGIC)] == crypto.FILE_MAGIC
    settings.PSIRT_ENCRYPTION_KEYS = settings.PSIRT_ENCRYPTION_KEYS[:1]
    assert store.read(saved.name) == b"data"


# Deleting, and the sweeps of what was left behind.


def test_delete_removes_a_file_and_ignores_a_missing_one_or_a_name_not_its_own(tmp_path: Path) -> None:
    store = crypto.EncryptedFileStore(tmp_path)
    keep, gone = store.save([b"keep"]).name, store.save([b"gone"]).name
    store.delete(gone)
    assert not store.exists(gone) and store.exists(keep)
    store.delete(gone)
    store.delete("../" + keep)
    store.delete("")
    assert store.read(keep) == b"keep"


def test_sweep_partial_removes_only_temporary_files_unwritten_for_the_given_time(tmp_path: Path) -> None:
    store = crypto.EncryptedFileStore(tmp_path)
    stored = store.save([b"kept"])
    folder = tmp_path / stored.name[:2]
    old_spool, fresh_spool = store.spool(), store.spool()
    old_spool.write(b"half an upload")
    aged(old_spool.path, NOW - 2 * 3600)
    aged(fresh_spool.path, NOW - 600)
    old_part, on_the_limit, a_folder = folder / ".tmp-old", folder / ".tmp-on-the-limit", folder / ".tmp-a-folder"
    old_part.write_bytes(b"")
    on_the_limit.write_bytes(b"")
    a_folder.mkdir()
    aged(old_part, NOW - 3601)
    aged(on_the_limit, NOW - 3600)
    aged(a_folder, NOW - 10 * 3600)
    aged(folder / stored.name, NOW - 10 * 3600)

    assert store.sweep_partial(older_than=HOUR, now=NOW) == 2
    assert not old_spool.path.exists() and not old_part.exists()
    assert fresh_spool.path.exists() and on_the_limit.exists() and a_folder.is_dir()
    assert store.read(stored.name) == b"kept"
    assert store.sweep_partial(older_than=HOUR, now=NOW) == 0
    fresh_spool.discard()


def test_sweep_partial_without_a_time_uses_the_clock(tmp_path: Path) -> None:
    store = crypto.EncryptedFileStore(tmp_path)
    old, fresh = store.spool(), store.spool()
    aged(old.path, 1_000_000_000)
    assert store.sweep_partial(older_than=HOUR) == 1
    assert not old.path.exists() and fresh.path.exists()
    fresh.discard()


def test_the_sweeps_of_a_store_never_written_to_find_nothing(tmp_path: Path) -> None:
    store = crypto.EncryptedFileStore(tmp_path / "never")
    assert store.sweep_partial(older_than=HOUR, now=NOW) == 0
    assert list(store.stored_names(older_than=HOUR, now=NOW)) == []
    assert not (tmp_path / "never").exists()


def test_a_file_swept_by_another_process_first_is_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = crypto.EncryptedFileStore(tmp_path)
    spools = [store.spool() for _ in range(3)]
    for spool in spools:
        aged(spool.path, NOW - 2 * 3600)
    unlink, raced = Path.unlink, list[Path]()

    def another_process_first(path: Path, missing_ok: bool = False) -> None:
        if not raced:  # the first one is gone by the time we remove it
            raced.append(path)
            unlink(path)
            raise FileNotFoundError(path)
        unlink(path, missing_ok=missing_ok)

    monkeypatch.setattr(Path, "unlink", another_process_first)
    assert store.sweep_partial(older_than=HOUR, now=NOW) == 2
    assert not any(spool.path.exists() for spool in spools)


def test_stored_names_lists_stored_files_unchanged_for_the_given_time(tmp_path: Path) -> None:
    store = crypto.EncryptedFileStore(tmp_path)
    old, on_the_limit, fresh = (store.save([b"x"]).name for _ in range(3))
    aged(tmp_path / old[:2] / old, NOW - 3601)
    aged(tmp_path / on_the_limit[:2] / on_the_limit, NOW - 3600)
    aged(tmp_path / fresh[:2] / fresh, NOW - 60)
    spool = store.spool()
    spool.finish()
    aged(spool.path, 0)
    # What is not a stored file: a spool, a hidden folder, a loose file, another suffix, a temporary file.
    (tmp_path / "spool" / "left-0.enc").write_bytes(b"")
    (tmp_path / ".trash").mkdir()
    (tmp_path / ".trash" / "hidden-0.enc").write_bytes(b"")
    (tmp_path / "loose.enc").write_bytes(b"")
    (tmp_path / old[:2] / "note.txt").write_bytes(b"")
    for path in [*tmp_path.rglob("*.enc"), *tmp_path.rglob("*.txt")]:
        if path.name not in (on_the_limit, fresh):
            aged(path, 0)
    assert list(store.stored_names(older_than=HOUR, now=NOW)) == [old]
    everything = sorted(store.stored_names(older_than=dt.timedelta(seconds=30), now=NOW))
    assert everything == sorted([old, on_the_limit, fresh])
    spool.discard()


def test_stored_names_without_a_time_uses_the_clock(tmp_path: Path) -> None:
    store = crypto.EncryptedFileStore(tmp_path)
    old, fresh = store.save([b"x"]).name, store.save([b"y"]).name
    aged(tmp_path / old[:2] / old, 1_000_000_000)
    assert list(store.stored_names(older_than=HOUR)) == [old]
    assert fresh


def test_a_stored_file_removed_while_listing_is_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tokens = iter(["cd" + str(i) * 30 for i in range(3)])  # all three in one folder
    monkeypatch.setattr(crypto.secrets, "token_hex", lambda n: next(tokens))
    store = crypto.EncryptedFileStore(tmp_path)
    names = sorted(store.save([b"x"]).name for _ in range(3))
    for name in names:
        aged(tmp_path / name[:2] / name, 0)
    stat_of, raced = Path.stat, list[str]()

    def removed_first(path: Path, **kwargs: object) -> os.stat_result:
        if path.suffix == ".enc" and not raced:
            raced.append(path.name)
            raise FileNotFoundError(path)
        return stat_of(path, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "stat", removed_first)
    listed = list(store.stored_names(older_than=HOUR, now=NOW))
    assert sorted([*listed, *raced]) == names and len(listed) == 2


# The spool: an upload encrypted as it arrives.


def test_a_spool_is_a_private_temporary_file_in_the_spool_folder(tmp_path: Path) -> None:
    store = crypto.EncryptedFileStore(tmp_path)
    spool = store.spool()
    assert spool.path.parent == tmp_path / "spool" and spool.path.name.startswith(".tmp-upload-")
    spool.write(b"PLAINTEXT")
    spool.write("上传".encode())
    assert spool.size == 9 + 6
    spool.finish()
    raw = spool.path.read_bytes()
    assert raw.startswith(crypto.FILE_MAGIC) and b"PLAINTEXT" not in raw
    assert b"".join(spool.open()) == b"PLAINTEXT" + "上传".encode()
    spool.discard()
    assert not spool.path.exists()
    spool.discard()  # twice is harmless


def test_a_finished_spool_takes_no_more_data(tmp_path: Path) -> None:
    spool = crypto.EncryptedFileStore(tmp_path).spool()
    spool.write(b"x")
    spool.finish()
    with pytest.raises(ValueError, match=r"^the spool is closed$"):
        spool.write(b"more")
    with pytest.raises(ValueError, match=r"^the spool is closed$"):
        spool.finish()
    assert b"".join(spool.open()) == b"x"
    spool.discard()


def test_a_spool_discarded_before_it_was_finished_is_gone_and_closed(tmp_path: Path) -> None:
    spool = crypto.EncryptedFileStore(tmp_path).spool()
    spool.write(b"half")
    out = spool._out
    spool.discard()
    assert out is not None and out.closed
    assert not spool.path.exists()
    with pytest.raises(ValueError, match=r"^the spool is closed$"):
        spool.write(b"more")
    with pytest.raises(ValueError, match=r"^the spool is closed$"):
        spool.finish()


def test_discarding_a_spool_whose_file_cannot_be_closed_still_removes_it(tmp_path: Path) -> None:
    spool = crypto.EncryptedFileStore(tmp_path).spool()
    spool.write(b"half")
    opened: IO[bytes] | None = spool._out
    assert opened is not None
    file = opened

    class Failing:
        def close(self) -> None:
            file.close()
            raise OSError("disk gone")

    spool._out = Failing()  # type: ignore[assignment]
    spool.discard()
    assert not spool.path.exists()


SPOOLED = bytes(range(256)) * 3 + b"end"  # 771 bytes: 49 chunks of 16 bytes


@pytest.fixture
def reader(small_chunks: None, tmp_path: Path) -> Iterator[io.BufferedReader]:
    spool = crypto.EncryptedFileStore(tmp_path).spool()
    for start in range(0, len(SPOOLED), 100):
        spool.write(SPOOLED[start : start + 100])
    spool.finish()
    with spool.reader() as file:
        yield file
    spool.discard()


def test_a_spool_reader_is_a_readable_seekable_file_of_the_plaintext(reader: io.BufferedReader) -> None:
    assert reader.readable() and reader.seekable() and reader.raw.readable() and reader.raw.seekable()
    assert reader.read(5) == SPOOLED[:5] and reader.tell() == 5
    assert reader.read() == SPOOLED[5:] and reader.tell() == len(SPOOLED)
    assert reader.read() == b""


def test_a_spool_reader_reads_in_pieces_of_any_size(reader: io.BufferedReader) -> None:
    raw = reader.raw
    assert isinstance(raw, io.RawIOBase)
    got, sizes = b"", [1, 7, 16, 17, 100, 3]
    while True:
        buffer = bytearray(sizes[len(got) % len(sizes)])
        n = raw.readinto(buffer)
        if not n:
            break
        assert 0 < n <= len(buffer)
        got += bytes(buffer[:n])
        assert raw.tell() == len(got)
    assert got == SPOOLED


def read_raw(raw: io.RawIOBase, size: int) -> bytes:
    """Up to `size` bytes from an unbuffered file, which may return fewer per call."""
    got = b""
    while len(got) < size:
        piece = raw.read(size - len(got))
        if not piece:
            break
        got += piece
    return got


SEEKS = [
    (0, io.SEEK_SET, 0),
    (10, io.SEEK_SET, 10),
    (500, io.SEEK_SET, 500),
    (16, io.SEEK_SET, 16),
    (len(SPOOLED), io.SEEK_SET, len(SPOOLED)),
    (len(SPOOLED) + 50, io.SEEK_SET, len(SPOOLED)),  # past the end: at the end
    (-3, io.SEEK_END, len(SPOOLED) - 3),
    (0, io.SEEK_END, len(SPOOLED)),
    (5, io.SEEK_CUR, 105),
    (-40, io.SEEK_CUR, 60),
    (-100, io.SEEK_CUR, 0),
]


@pytest.mark.parametrize(("offset", "whence", "position"), SEEKS)
def test_a_spool_reader_seeks_anywhere_and_reads_on_from_there(
    reader: io.BufferedReader, offset: int, whence: int, position: int
) -> None:
    raw = reader.raw
    assert isinstance(raw, io.RawIOBase)
    assert read_raw(raw, 100) == SPOOLED[:100]
    assert raw.seek(offset, whence) == position and raw.tell() == position
    assert read_raw(raw, 30) == SPOOLED[position : position + 30]
    assert raw.tell() == min(position + 30, len(SPOOLED))


@pytest.mark.parametrize(("offset", "whence", "position"), SEEKS)
def test_a_buffered_spool_reader_seeks_anywhere_and_reads_on_from_there(
    reader: io.BufferedReader, offset: int, whence: int, position: int
) -> None:
    assert reader.read(100) == SPOOLED[:100]
    assert reader.seek(offset, whence) == position and reader.tell() == position
    assert reader.read() == SPOOLED[position:]


def test_a_spool_reader_refuses_a_negative_position(reader: io.BufferedReader) -> None:
    raw = reader.raw
    assert isinstance(raw, io.RawIOBase)
    with pytest.raises(ValueError, match=r"^negative seek position$"):
        raw.seek(-1)
    with pytest.raises(ValueError, match=r"^negative seek position$"):
        raw.seek(-len(SPOOLED) - 1, io.SEEK_END)
    assert reader.read(3) == SPOOLED[:3]


def test_each_chunk_carries_the_file_id_its_number_and_a_last_chunk_flag_of_one(
    small_chunks: None, tmp_path: Path
) -> None:
    # The file format: magic, the file's 16-byte id, then per chunk a 4-byte big-endian length and a Fernet token
    # whose plaintext starts with the id, the chunk number (8 bytes) and the flag (1 on the last chunk, else 0).
    # Files outlive releases (backups, restores): what is written must stay readable by every later reader.
    store = crypto.EncryptedFileStore(tmp_path)
    name = store.save([bytes(40)]).name
    raw = (tmp_path / name[:2] / name).read_bytes()
    assert raw[:10] == b"PSIRTENC2\n"
    file_id, body, headers = raw[10:26], raw[26:], []
    while body:
        length = int.from_bytes(body[:4], "big")
        plain = crypto.decrypt_bytes(body[4 : 4 + length])
        headers.append((plain[:16], int.from_bytes(plain[16:24], "big"), plain[24], len(plain) - 25))
        body = body[4 + length :]
    assert headers == [(file_id, 0, 0, 16), (file_id, 1, 0, 16), (file_id, 2, 1, 8)]

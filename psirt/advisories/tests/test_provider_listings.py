"""The provider tree's listings edited in place on a publication: the sorted line files found by bisection and
rewritten around the changed lines give, byte for byte, what regenerating them from the documents gives, and a
listing not in the writer's shape falls back to that regeneration."""

from __future__ import annotations

import random
import shutil
from pathlib import Path
from typing import Any

import pytest

from psirt.advisories.csaf import provider
from psirt.advisories.csaf.provider.lines import Insert, LineFile, write_pieces
from psirt.advisories.csaf.provider.site_tree import open_tree
from psirt.formats.tests.factories import bulk_csaf_documents, revised_csaf_document

BASE = "https://psirt.test/.well-known/csaf"
PUBLISHER = {"category": "vendor", "name": "Example Devices", "namespace": "https://example.com"}
LISTINGS = (provider.INDEX_NAME, provider.CHANGES_NAME, provider.FEED_NAME)

# --- the sorted line files ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("sep", [b"\n", b",\n"])
@pytest.mark.parametrize("size", [0, 1, 2, 9, 60])
def test_bisect_and_pieces_match_list_operations(sep: bytes, size: int, tmp_path: Path) -> None:
    rng = random.Random(size)
    items = sorted(rng.sample(range(1000), size))
    lines = [f"{{{n:04d}:{'x' * rng.randrange(40)}}}".encode() for n in items]
    body = sep.join(lines) + (b"\n" if lines else b"")
    data = b"HEAD\n" + body + b"TAIL"
    source = LineFile(data, 5, 5 + len(body), sep)

    def key(line: bytes) -> int:
        return int(line[1:5])

    starts = [5]
    for line in lines:
        starts.append(starts[-1] + len(line) + len(sep))
    starts[-1] = 5 + len(body)
    for target in [-1, 0, 500, 999, 1000, *items]:
        expected = sum(1 for n in items if n < target)
        assert source.bisect(key, target) == starts[expected]
    removed = set(rng.sample(range(size), min(size, 3)))
    new = sorted({rng.randrange(1000) for _ in range(4)} - set(items))
    inserts = [Insert(source.bisect(key, n), n, f"{{{n:04d}:new}}".encode()) for n in new]
    pieces = source.pieces({starts[i] for i in removed}, inserts)
    kept = [line for i, line in enumerate(lines) if i not in removed] + [i.line for i in inserts]
    want = sorted(kept, key=key)
    src = tmp_path / "src"
    src.write_bytes(data)
    out = tmp_path / "out"
    with open(src, "rb") as source_file, open(out, "wb") as out_file:
        write_pieces(out_file.fileno(), source, pieces, source_file.fileno())
    assert out.read_bytes() == sep.join(want) + (b"\n" if want else b"")
    assert source.first_line(pieces) == (want[0] if want else None)


# --- the listings of a tree --------------------------------------------------------------------------------------


@pytest.fixture
def root(settings: Any, tmp_path: Path, signing_key_file: Path) -> Path:
    settings.PSIRT_VAR_DIR = tmp_path / "var"
    settings.PSIRT_SIGNING_KEY_FILE = str(signing_key_file)
    settings.PSIRT_BASE_URL = BASE.removesuffix("/.well-known/csaf")
    return tmp_path / "tree"


@pytest.fixture
def advisories() -> list[list[dict[str, Any]]]:
    return bulk_csaf_documents(30, BASE)


@pytest.fixture
def exported(root: Path, advisories: list[list[dict[str, Any]]]) -> Path:
    tree = open_tree(root)
    provider.export_tree(root, [d for group in advisories for d in group], base=BASE, key=tree.key, publisher=PUBLISHER)
    return root


def test_an_export_creates_each_file_once_and_refuses_a_tree_already_there(
    exported: Path, advisories: list[list[dict[str, Any]]], tmp_path: Path
) -> None:
    files = sorted(p.relative_to(exported).as_posix() for p in exported.rglob("*") if p.is_file())
    assert not [name for name in files if name.endswith(".tmp")]
    assert len([name for name in files if name.endswith(".json.asc")]) == sum(len(group) for group in advisories)
    assert _listings(exported) == _regenerated(exported, tmp_path)
    before = {name: (exported / name).read_bytes() for name in files}
    tree = open_tree(exported)
    docs = [d for group in advisories for d in group]
    with pytest.raises(provider.ProviderError, match="export into an empty folder"):
        provider.export_tree(exported, docs, base=BASE, key=tree.key, publisher=PUBLISHER)
    assert {name: (exported / name).read_bytes() for name in files} == before  # nothing overwritten


def _listings(root: Path) -> dict[str, bytes]:
    return {name: (root / "white" / name).read_bytes() for name in LISTINGS}


def _regenerated(root: Path, tmp_path: Path) -> dict[str, bytes]:
    """The listings regenerated from the documents of a copy of the tree (the slow, whole path)."""
    copy = tmp_path / "regenerated"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(root, copy)
    for name in LISTINGS:
        (copy / "white" / name).unlink()
    tree = open_tree(copy)
    tree.write_listings(tree.scan_entries(), publisher=PUBLISHER)
    return _listings(copy)


def _publish(root: Path, docs: list[dict[str, Any]]) -> list[str]:
    return provider.update_documents(docs, root=root, publisher=PUBLISHER).written


def test_a_revision_moves_its_lines_to_the_top_without_touching_index(
    exported: Path, advisories: list[list[dict[str, Any]]], tmp_path: Path
) -> None:
    before = _listings(exported)
    docs = [revised_csaf_document(d, "2027-01-01T00:00:00Z") for d in advisories[10]]  # one with a translation
    written = _publish(exported, docs)
    assert "white/index.txt" not in written
    assert {"white/changes.csv", f"white/{provider.FEED_NAME}"} <= set(written)
    after = _listings(exported)
    assert after == _regenerated(exported, tmp_path)
    assert after["index.txt"] == before["index.txt"]
    first = after["changes.csv"].split(b"\n")[:2]
    assert sorted(first) == [
        b'"2021/example-sa-2021-000010.json","2027-01-01T00:00:00Z"',
        b'"2021/zh-hans/example-sa-2021-000010.json","2027-01-01T00:00:00Z"',
    ]


@pytest.mark.parametrize(
    "current",
    [
        "2019-01-10T00:00:00Z",  # older than every other: the end of the listings
        "2023-05-14T09:30:00Z",  # somewhere in the middle
        "2023-05-14T09:30:00.000+00:00",  # the same instant written otherwise: ordered by instant, then path
        "2026-09-19T09:29:00Z",  # the same date as the newest: ties by path
    ],
)
def test_a_revision_lands_where_its_date_puts_it(
    exported: Path, advisories: list[list[dict[str, Any]]], tmp_path: Path, current: str
) -> None:
    _publish(exported, [revised_csaf_document(advisories[3][0], "2023-05-14T09:30:00Z")])
    _publish(exported, [revised_csaf_document(d, current) for d in advisories[7]])
    assert _listings(exported) == _regenerated(exported, tmp_path)


def test_a_new_advisory_is_inserted_into_index_too(
    exported: Path, advisories: list[list[dict[str, Any]]], tmp_path: Path
) -> None:
    [new] = bulk_csaf_documents(31, BASE)[30:]
    written = _publish(exported, new)
    assert "white/index.txt" in written
    assert _listings(exported) == _regenerated(exported, tmp_path)
    assert b"2025/example-sa-2025-000030.json\n" in _listings(exported)["index.txt"]


def test_a_translation_added_and_dropped(
    exported: Path, advisories: list[list[dict[str, Any]]], tmp_path: Path
) -> None:
    with_translation = advisories[0]  # n % 5 == 0: English and zh-Hans
    assert len(with_translation) == 2
    english = revised_csaf_document(with_translation[0], "2027-02-01T00:00:00Z")
    written = _publish(exported, [english])
    translation = "white/2019/zh-hans/example-sa-2019-000000.json"
    assert not (exported / translation).exists()
    assert _listings(exported) == _regenerated(exported, tmp_path)
    assert translation.encode()[len("white/") :] not in _listings(exported)["index.txt"]
    assert "white/index.txt" in written
    again = [revised_csaf_document(d, "2027-03-01T00:00:00Z") for d in with_translation]
    _publish(exported, again)
    assert (exported / translation).exists()
    assert _listings(exported) == _regenerated(exported, tmp_path)


def test_republishing_the_same_documents_writes_nothing(exported: Path, advisories: list[list[dict[str, Any]]]) -> None:
    assert _publish(exported, advisories[4]) == []


def test_the_first_publication_into_an_empty_tree(
    root: Path, advisories: list[list[dict[str, Any]]], tmp_path: Path
) -> None:
    _publish(root, advisories[0])
    _publish(root, advisories[1])
    assert _listings(root) == _regenerated(root, tmp_path)
    assert _listings(root)["index.txt"].count(b"\n") == 3


def _cut(data: bytes) -> bytes:
    return data[:-40]


def _renamed(data: bytes) -> bytes:
    """The revised advisory's line no longer names it."""
    return data.replace(b"2021/example-sa-2021-000010.json", b"2021/example-sa-2021-999999.json", 1)


def _emptied(data: bytes) -> bytes:
    return b""


# A feed line renamed is trusted by the whole regeneration too (it reads the feed back, and scans the documents
# only when the feed is unreadable), so that damage is left out here.
@pytest.mark.parametrize(
    ("name", "damage"),
    [
        (name, damage)
        for name in LISTINGS
        for damage in (_cut, _renamed, _emptied)
        if (name, damage) != (provider.FEED_NAME, _renamed)
    ],
)
def test_listings_not_in_the_writers_shape_are_regenerated(
    exported: Path, advisories: list[list[dict[str, Any]]], tmp_path: Path, name: str, damage: Any
) -> None:
    path = exported / "white" / name
    path.write_bytes(damage(path.read_bytes()))
    _publish(exported, [revised_csaf_document(d, "2027-01-01T00:00:00Z") for d in advisories[10]])
    assert _listings(exported) == _regenerated(exported, tmp_path)


def test_without_copy_file_range_the_runs_are_copied_through_memory(
    exported: Path, advisories: list[list[dict[str, Any]]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: Any) -> int:
        raise OSError("not here")

    monkeypatch.setattr("os.copy_file_range", refuse, raising=False)
    _publish(exported, [revised_csaf_document(d, "2027-01-01T00:00:00Z") for d in advisories[12]])
    assert _listings(exported) == _regenerated(exported, tmp_path)

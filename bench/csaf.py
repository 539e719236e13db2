"""CSAF provider benchmark: export a provider tree from scratch (documents, SHA-256/SHA-512 files, detached
OpenPGP signatures, index.txt, changes.csv, the ROLIE feed, provider-metadata.json, the public key), then
republish one advisory (a new revision) into trees of growing size.

Reference, same run and same documents: writing each document into its year folder with plain `json.dump` (the
same serialisation options as the tree, so the ratio is the cost of the provider around the documents), no hash,
no signature, no listing. Export and reference alternate `--rounds` times (the machine is shared; medians are
reported). Each is timed in wall time (the target) and in CPU time of the process, user plus system (`cpu_ratio`:
what a loaded disk or a neighbour's writeback cannot inflate).

Documents are generated in bulk, not rendered from the database one by one (100,000 advisories through the ORM
and the renderer would take hours): the renderer tests' factories are rendered once, and each advisory is a
shallow copy of one of them with its own tracking ID, dates, title and URL; one in five has a zh-Hans translation
(`psirt.formats.tests.factories.bulk_csaf_documents`).

Republishing is measured in the exported tree and, for the curve, in trees of 1,000, 10,000 (and 100,000 with
`--advisories 100000`) advisories whose listings are complete but which hold only the documents being
republished: a publication reads and writes the advisory's own files and the listings, never the other documents,
so the curve is the listings' cost. Six republications per tree, medians of wall time, CPU time and bytes
written (the listings are replaced whole: see docs/csaf-provider.md for why the standard leaves no constant
layout).

Targets: full export ≤ 2× the reference; republishing one advisory < 200 ms, flat across the curve.
`--quick` (2,000 advisories exported, curve at 1,000 and 10,000) runs in under a minute. The last line is
`RESULT key=value …`.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# This file is bench/csaf.py: its folder must not shadow the `csaf` package the validator imports.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))
BASE = "https://security.example.com/.well-known/csaf"


def _setup(var_dir: Path) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "psirt.settings_test")
    os.environ["PSIRT_VAR_DIR"] = str(var_dir)
    import django

    django.setup()


def _documents(count: int) -> list[list[dict[str, Any]]]:
    """`count` advisories, each its document (and translation), made in bulk (see bulk_csaf_documents)."""
    from psirt.formats.tests.factories import bulk_csaf_documents

    return bulk_csaf_documents(count, BASE)


def _cpu() -> float:
    """CPU seconds of this process so far, user and system (the kernel's share of writing files counts)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _reference(root: Path, docs: list[dict[str, Any]]) -> tuple[float, float]:
    from psirt.advisories.csaf.provider import document_path

    start, cpu = time.perf_counter(), _cpu()
    made: set[Path] = set()
    for doc in docs:
        path = root / "white" / document_path(doc)
        if path.parent not in made:
            path.parent.mkdir(parents=True, exist_ok=True)
            made.add(path.parent)
        with open(path, "w", encoding="utf-8") as out:
            json.dump(doc, out, ensure_ascii=False, sort_keys=True, indent=2)
            out.write("\n")
    return time.perf_counter() - start, _cpu() - cpu


def _export(root: Path, docs: list[dict[str, Any]], key: Any, publisher: dict[str, Any]) -> tuple[float, float]:
    from psirt.advisories.csaf.provider import export_tree

    start, cpu = time.perf_counter(), _cpu()
    export_tree(root, docs, base=BASE, key=key, publisher=publisher)
    return time.perf_counter() - start, _cpu() - cpu


def _republish(
    root: Path, docs: list[dict[str, Any]], round_: int, publisher: dict[str, Any]
) -> tuple[float, float, list[str], int]:
    """A new revision of one advisory (its documents) into the tree at `root`: wall and CPU seconds of
    update_documents, the files it wrote and their bytes."""
    from psirt.advisories.csaf.provider import update_documents
    from psirt.formats.tests.factories import revised_csaf_document

    revised = [revised_csaf_document(doc, f"2027-01-01T00:{round_:02d}:00Z") for doc in docs]
    start, cpu = time.perf_counter(), _cpu()
    changes = update_documents(revised, root=root, publisher=publisher)
    wall, cpu = time.perf_counter() - start, _cpu() - cpu
    return wall, cpu, changes.written, sum((root / name).stat().st_size for name in changes.written)


def _picks(count: int) -> list[int]:
    """Six advisories spread over the tree, with and without a translation."""
    return [(i * 997) % count for i in range(6)]


def _listing_tree(root: Path, advisories: list[list[dict[str, Any]]], key: Any, publisher: dict[str, Any]) -> None:
    """A tree whose listings name every advisory, holding the documents of `_picks` only."""
    from psirt.advisories.csaf.provider import ProviderTree

    tree = ProviderTree(root, base_url=BASE, key=key)
    entries = {}
    for group in advisories:
        for doc in group:
            entry = tree.entry_for(doc, signed=True)
            entries[entry.path] = entry
    for n in _picks(len(advisories)):
        for doc in advisories[n]:
            tree.put(doc, fresh=True)
    tree.write_key()
    tree.write_listings(entries, publisher=publisher, fresh=True)
    tree.write_metadata(publisher)


def _republish_medians(
    root: Path, advisories: list[list[dict[str, Any]]], publisher: dict[str, Any]
) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds and bytes written of one republication: medians of six."""
    runs = [_republish(root, advisories[n], i, publisher) for i, n in enumerate(_picks(len(advisories)))]
    return (
        statistics.median(r[0] for r in runs),
        statistics.median(r[1] for r in runs),
        statistics.median(float(r[3]) for r in runs),
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="2,000 advisories, one round, curve to 10,000")
    parser.add_argument("--advisories", type=int, default=0, help="advisories exported (default 10,000)")
    parser.add_argument("--rounds", type=int, default=0, help="export/reference rounds (default 3, quick 1)")
    args = parser.parse_args()
    count = args.advisories or (2000 if args.quick else 10_000)
    rounds = args.rounds or (1 if args.quick else 3)
    curve = sorted({1000, 10_000, max(count, 10_000)})

    work = Path(tempfile.mkdtemp(prefix="psirt-bench-csaf-"))
    try:
        _setup(work / "var")
        import pysequoia
        from django.conf import settings

        key_file = work / "signing.asc"
        key_file.write_text(str(pysequoia.Tsk.generate("Bench PSIRT <psirt@example.com>")), encoding="ascii")
        settings.PSIRT_SIGNING_KEY_FILE = str(key_file)
        settings.PSIRT_BASE_URL = BASE.removesuffix("/.well-known/csaf")
        from psirt.lib.signing import signing_key

        key = signing_key()
        publisher = {"category": "vendor", "name": "Example Devices", "namespace": "https://example.com"}

        t0 = time.perf_counter()
        every = _documents(max(count, *curve))
        advisories = every[:count]
        docs = [doc for group in advisories for doc in group]
        print(f"{len(every)} advisories generated in {time.perf_counter() - t0:.1f} s (not timed)")

        exports: list[tuple[float, float]] = []
        references: list[tuple[float, float]] = []
        for round_ in range(rounds):
            ref_dir, out_dir = work / f"ref{round_}", work / f"tree{round_}"
            # Alternate which goes first: the second of a pair may pay for the first's writeback to disk.
            if round_ % 2 == 0:
                references.append(_reference(ref_dir, docs))
                exports.append(_export(out_dir, docs, key, publisher))
            else:
                exports.append(_export(out_dir, docs, key, publisher))
                references.append(_reference(ref_dir, docs))
            print(
                f"round {round_ + 1}: export {exports[-1][0]:.2f} s ({exports[-1][1]:.2f} s CPU), "
                f"reference {references[-1][0]:.2f} s ({references[-1][1]:.2f} s CPU)"
            )
            shutil.rmtree(ref_dir)
            if round_ < rounds - 1:
                shutil.rmtree(out_dir)
        tree = work / f"tree{rounds - 1}"
        export_s, reference_s = statistics.median(e[0] for e in exports), statistics.median(r[0] for r in references)
        ratio = statistics.median(e[0] / r[0] for e, r in zip(exports, references, strict=True))
        cpu_ratio = statistics.median(e[1] / r[1] for e, r in zip(exports, references, strict=True))
        files = sum(1 for p in tree.rglob("*") if p.is_file())
        print(
            f"export: {export_s:.2f} s ({files} files), reference json.dump: {reference_s:.2f} s, ratio {ratio:.2f} "
            f"(CPU time ratio {cpu_ratio:.2f})"
        )

        big = [_republish(tree, advisories[n], i, publisher) for i, n in enumerate(_picks(count))]
        big_s, big_cpu = statistics.median(r[0] for r in big), statistics.median(r[1] for r in big)
        print(f"republish one, files written: {', '.join(big[1][2])}")
        print(
            f"republish one: {big_s * 1000:.0f} ms ({big_cpu * 1000:.0f} ms CPU) in the exported {count}-advisory tree"
        )
        shutil.rmtree(tree)
        points: dict[int, tuple[float, float, float]] = {}
        for size in curve:
            root = work / f"curve{size}"
            _listing_tree(root, every[:size], key, publisher)
            feed_mb = (root / "white" / "csaf-feed-tlp-white.json").stat().st_size / 1e6
            points[size] = wall, cpu, written = _republish_medians(root, every[:size], publisher)
            print(
                f"curve: {size} advisories (feed {feed_mb:.1f} MB): republish one {wall * 1000:.1f} ms "
                f"({cpu * 1000:.1f} ms CPU, {written / 1e6:.2f} MB written)"
            )
            shutil.rmtree(root)
        growth = points[curve[-1]][0] / points[curve[0]][0]
        ok = ratio <= 2.0 and max(big_s, *(p[0] for p in points.values())) < 0.2
        curve_keys = " ".join(
            f"republish_{size // 1000}k_ms={wall * 1000:.1f} republish_{size // 1000}k_cpu_ms={cpu * 1000:.1f} "
            f"republish_{size // 1000}k_mb={written / 1e6:.2f}"
            for size, (wall, cpu, written) in points.items()
        )
        print(
            f"RESULT advisories={count} documents={len(docs)} export_s={export_s:.2f} reference_s={reference_s:.2f} "
            f"ratio={ratio:.2f} cpu_ratio={cpu_ratio:.2f} republish_ms={big_s * 1000:.0f} "
            f"republish_cpu_ms={big_cpu * 1000:.0f} {curve_keys} republish_growth={growth:.1f} files={files} "
            f"targets={'met' if ok else 'MISSED'}"
        )
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

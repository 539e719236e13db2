"""CSAF provider benchmark: export a provider tree of 10,000 advisories from scratch (documents, SHA-256/SHA-512
files, detached OpenPGP signatures, index.txt, changes.csv, the ROLIE feed, provider-metadata.json, the public
key), then republish one advisory (a new revision) into that tree.

Reference, same run and same documents: writing each document into its year folder with plain `json.dump` (the
same serialisation options as the tree, so the ratio is the cost of the provider around the documents), no hash,
no signature, no listing. Export and reference alternate `--rounds` times (the machine is shared; medians are
reported). Republishing is measured on the full tree and on a 100-advisory tree: it must not grow with the tree.

Documents are rendered once before timing (rendering is the formats' cost, not the provider's): a few realistic
documents from the renderer tests' factories, each advisory a shallow copy with its own tracking data; one in five
has a zh-Hans translation.

Targets: full export ≤ 5× the reference; republishing one advisory < 1 s whatever the tree size.
`--quick` (2,000 advisories, one round) runs in well under a minute. The last line is `RESULT key=value …`.
"""

from __future__ import annotations

import argparse
import json
import os
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


def _reference(root: Path, docs: list[dict[str, Any]]) -> float:
    from psirt.advisories.csaf.provider import document_path

    start = time.perf_counter()
    made: set[Path] = set()
    for doc in docs:
        path = root / "white" / document_path(doc)
        if path.parent not in made:
            path.parent.mkdir(parents=True, exist_ok=True)
            made.add(path.parent)
        with open(path, "w", encoding="utf-8") as out:
            json.dump(doc, out, ensure_ascii=False, sort_keys=True, indent=2)
            out.write("\n")
    return time.perf_counter() - start


def _export(root: Path, docs: list[dict[str, Any]], key: Any, publisher: dict[str, Any]) -> float:
    from psirt.advisories.csaf.provider import export_tree

    start = time.perf_counter()
    export_tree(root, docs, base=BASE, key=key, publisher=publisher)
    return time.perf_counter() - start


def _republish(
    root: Path, docs: list[dict[str, Any]], round_: int, publisher: dict[str, Any]
) -> tuple[float, float, list[str]]:
    """A new revision of one advisory (its documents) into the tree at `root`: wall and CPU seconds of
    update_documents, and the files it wrote."""
    from psirt.advisories.csaf.provider import update_documents
    from psirt.formats.tests.factories import revised_csaf_document

    revised = [revised_csaf_document(doc, f"2027-01-01T00:{round_:02d}:00Z") for doc in docs]
    start, cpu = time.perf_counter(), time.process_time()
    changes = update_documents(revised, root=root, publisher=publisher)
    return time.perf_counter() - start, time.process_time() - cpu, changes.written


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="2,000 advisories, one round")
    parser.add_argument("--advisories", type=int, default=0, help="number of advisories (default 10,000)")
    parser.add_argument("--rounds", type=int, default=0, help="export/reference rounds (default 3, quick 1)")
    args = parser.parse_args()
    count = args.advisories or (2000 if args.quick else 10_000)
    rounds = args.rounds or (1 if args.quick else 3)

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
        advisories = _documents(count)
        docs = [doc for group in advisories for doc in group]
        print(f"{count} advisories, {len(docs)} documents rendered in {time.perf_counter() - t0:.1f} s (not timed)")

        exports, references = [], []
        for round_ in range(rounds):
            ref_dir, out_dir = work / f"ref{round_}", work / f"tree{round_}"
            # Alternate which goes first: the second of a pair may pay for the first's writeback to disk.
            if round_ % 2 == 0:
                references.append(_reference(ref_dir, docs))
                exports.append(_export(out_dir, docs, key, publisher))
            else:
                exports.append(_export(out_dir, docs, key, publisher))
                references.append(_reference(ref_dir, docs))
            print(f"round {round_ + 1}: export {exports[-1]:.2f} s, reference {references[-1]:.2f} s")
            shutil.rmtree(ref_dir)
            if round_ < rounds - 1:
                shutil.rmtree(out_dir)
        tree = work / f"tree{rounds - 1}"
        export_s, reference_s = statistics.median(exports), statistics.median(references)
        ratio = statistics.median(e / r for e, r in zip(exports, references, strict=True))
        files = sum(1 for p in tree.rglob("*") if p.is_file())
        print(f"export: {export_s:.2f} s ({files} files), reference json.dump: {reference_s:.2f} s, ratio {ratio:.2f}")

        # Advisories across the tree, with and without a translation.
        big = [_republish(tree, advisories[(i * 997) % count], i, publisher) for i in range(6)]
        small_tree = work / "small"
        _export(small_tree, [doc for group in advisories[:100] for doc in group], key, publisher)
        small = [_republish(small_tree, advisories[i * 7], i, publisher) for i in range(6)]
        big_s, big_cpu = statistics.median(r[0] for r in big), statistics.median(r[1] for r in big)
        small_s = statistics.median(r[0] for r in small)
        print(f"republish one, files written: {', '.join(big[1][2])}")
        print(
            f"republish one: {big_s * 1000:.0f} ms ({big_cpu * 1000:.0f} ms CPU) in the {count}-advisory tree, "
            f"{small_s * 1000:.0f} ms in a 100-advisory tree"
        )
        ok = ratio <= 5.0 and big_s < 1.0
        print(
            f"RESULT advisories={count} documents={len(docs)} export_s={export_s:.2f} reference_s={reference_s:.2f} "
            f"ratio={ratio:.2f} republish_ms={big_s * 1000:.0f} republish_cpu_ms={big_cpu * 1000:.0f} "
            f"republish_small_ms={small_s * 1000:.0f} "
            f"files={files} targets={'met' if ok else 'MISSED'}"
        )
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

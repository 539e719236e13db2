"""`ProviderTree`, the writer: a document with its hashes and signature, the public signing key, and
provider-metadata.json, on top of the on-disk files (files.py) and the listings (listings.py)."""

from __future__ import annotations

import contextlib
import json
from typing import Any

from psirt.advisories.csaf.provider.layout import (
    HASHES,
    JSON,
    KEY_FOLDER,
    METADATA_NAME,
    TLP_FOLDER,
    TLP_LABEL,
    document_path,
)
from psirt.advisories.csaf.provider.listings import Entry, TreeListings, utc_now
from psirt.formats.csaf import dumps_csaf


class ProviderTree(TreeListings):
    """A provider tree rooted at `root`, published at `base_url` (the URL of the folder holding
    provider-metadata.json). `key` signs; None writes no signatures."""

    def put(self, doc: JSON, *, fresh: bool = False) -> Entry:
        """Place one document with its hashes and signature; rewrite only what differs. `fresh` says the tree
        holds none of its files yet (an export into an empty folder): they are created, never compared or replaced,
        and FileExistsError says one is there."""
        rel = document_path(doc)
        data = dumps_csaf(doc).encode("utf-8")
        if fresh:
            return self._put_new(doc, rel, data)
        target = self.tlp_dir / rel
        changed = self._write(target, data, compare=not fresh)
        name = target.name
        for algorithm, make in HASHES:
            line = f"{make(data).hexdigest()}  {name}\n".encode("ascii")
            self._write(target.with_name(f"{name}.{algorithm}"), line, compare=not fresh)
        asc = target.with_name(f"{name}.asc")
        if self.key is None:
            if changed:
                self._remove(asc)  # an old signature of other bytes would only mislead
        elif changed or not self._signature_current(data, asc):
            self._write(asc, self.key.sign_detached(data).encode("ascii"), compare=False)
        signed = self.key is not None or asc.exists()
        return self.entry_for(doc, signed=signed)

    def _put_new(self, doc: JSON, rel: str, data: bytes) -> Entry:
        """`put` into an empty tree (export): each file created once, nothing read or compared."""
        stem = f"{TLP_FOLDER}/{rel}"
        name = rel.rsplit("/", 1)[-1]
        self._create(stem, data)
        for algorithm, make in HASHES:
            self._create(f"{stem}.{algorithm}", f"{make(data).hexdigest()}  {name}\n".encode("ascii"))
        if self.key is not None:
            self._create(f"{stem}.asc", self.key.sign_detached(data).encode("ascii"))
        return self.entry_for(doc, signed=self.key is not None)

    def write_key(self) -> None:
        if self.key is not None:
            self._write(self.root / KEY_FOLDER / f"{self.key.fingerprint}.asc", self.key.public_key.encode("ascii"))

    def metadata(self, publisher: JSON, last_updated: str) -> JSON:
        out: JSON = {
            "canonical_url": self.metadata_url,
            "distributions": [
                {
                    "directory_url": self.directory_url,
                    "rolie": {
                        "feeds": [
                            {
                                "summary": f"All TLP:WHITE advisories of {publisher.get('name', 'psirt')}.",
                                "tlp_label": TLP_LABEL,
                                "url": self.feed_url,
                            }
                        ]
                    },
                }
            ],
            "last_updated": last_updated,
            "list_on_CSAF_aggregators": True,
            "metadata_version": "2.0",
            "mirror_on_CSAF_aggregators": True,
            "publisher": publisher,
            "role": "csaf_trusted_provider" if self.key is not None else "csaf_provider",
        }
        if self.key is not None:
            out["public_openpgp_keys"] = [
                {"fingerprint": self.key.fingerprint, "url": f"{self.base_url}/{KEY_FOLDER}/{self.key.fingerprint}.asc"}
            ]
        return out

    def write_metadata(self, publisher: JSON) -> None:
        """provider-metadata.json; last_updated moves only when something else in it changed."""
        path = self.root / METADATA_NAME
        with contextlib.suppress(OSError, ValueError):
            old = json.loads(path.read_bytes())
            if old == self.metadata(publisher, old.get("last_updated", "")):
                return
        self._write(path, _dumps(self.metadata(publisher, utc_now())), compare=False)

    def key_changed(self) -> bool:
        """The tree was written without this key (another key, or none): every document needs its signature."""
        if self.key is None or not (self.root / METADATA_NAME).exists():
            return False
        return self.metadata_fingerprint() != self.key.fingerprint

    def metadata_fingerprint(self) -> str | None:
        """The key fingerprint provider-metadata.json names now (None: no file or no key)."""
        try:
            keys = json.loads((self.root / METADATA_NAME).read_bytes()).get("public_openpgp_keys") or []
            return str(keys[0]["fingerprint"]).upper() if keys else None
        except (OSError, ValueError, KeyError, TypeError, IndexError):
            return None


def _dumps(value: Any) -> bytes:
    return (json.dumps(value, ensure_ascii=False, sort_keys=True, indent=2) + "\n").encode("utf-8")

"""The CSAF provider tree over HTTP: `/.well-known/csaf/…` (files and directory listings, CSAF requirement 14) and
`/advisories/<ID>/csaf.json`, the current document of one advisory.

Only names the tree writer makes are served (an allow-list of shapes, then a lookup inside the tree root with
symlinks refused): a crafted path can neither leave the tree nor reach the lock or temporary files. Every answer
carries ETag and Last-Modified and honours conditional requests (aggregators poll).
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable
from pathlib import Path

from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_safe

from psirt.advisories.csaf import provider
from psirt.advisories.csaf.documents import DocumentError
from psirt.advisories.models import PUBLIC_STATES, Advisory
from psirt.formats.csaf import TRANSLATION_LANG, dumps_csaf
from psirt.lib.http import conditional

MAX_AGE = 300

_YEAR = r"[0-9]{4}"
_LANG = r"[a-z]{2,3}(?:-[a-z0-9]{2,8})*"
_DOC = r"[+\-a-z0-9_]+\.json"
_FILES = re.compile(
    rf"^(?:provider-metadata\.json"
    rf"|openpgp/[0-9A-F]{{40,64}}\.asc"
    rf"|white/(?:index\.txt|changes\.csv|{re.escape(provider.FEED_NAME)})"
    rf"|white/{_YEAR}/(?:{_LANG}/)?{_DOC}(?:\.sha256|\.sha512|\.asc)?)$"
)
_DIRS = re.compile(rf"^(?:|openpgp|white|white/{_YEAR}|white/{_YEAR}/{_LANG})$")


def _content_type(rel: str) -> str:
    if rel.endswith(".json"):
        return "application/json"
    if rel.endswith(".csv"):
        return "text/csv; charset=utf-8"
    if rel.startswith("openpgp/"):
        return "application/pgp-keys"
    if rel.endswith(".asc"):
        return "application/pgp-signature"
    return "text/plain; charset=utf-8"


def _inside(root: Path, rel: str) -> tuple[Path, os.stat_result] | None:
    """The path and lstat of `rel` inside `root` when it exists there, with no symlink on the way."""
    path = root
    result = None
    for part in [p for p in rel.split("/") if p]:
        path = path / part
        try:
            result = os.lstat(path)
        except OSError:
            return None
        if stat.S_ISLNK(result.st_mode):
            return None
    if result is None:
        try:
            result = os.lstat(root)
        except OSError:
            return None
    return path, result


def _conditional(request: HttpRequest, info: os.stat_result, make: Callable[[], HttpResponseBase]) -> HttpResponseBase:
    """The file's answer, or 304/412. The ETag comes from the file's identity: the writer replaces files (new inode,
    new mtime), it never edits one in place."""
    etag = f'"{info.st_mtime_ns:x}-{info.st_size:x}-{info.st_ino:x}"'
    return conditional(request, etag=etag, last_modified=int(info.st_mtime), max_age=MAX_AGE, make=make)


def _file(request: HttpRequest, path: Path, info: os.stat_result, rel: str) -> HttpResponseBase:
    def make() -> HttpResponseBase:
        # FileResponse closes the file when the answer has been sent.
        response = FileResponse(open(path, "rb"), content_type=_content_type(rel))  # noqa: SIM115
        response["Content-Length"] = str(info.st_size)
        return response

    return _conditional(request, info, make)


@require_safe
def well_known_csaf(request: HttpRequest, subpath: str = "") -> HttpResponseBase:
    """A file of the tree, or the listing of one of its folders."""
    rel = subpath.rstrip("/") if subpath.endswith("/") else subpath
    is_dir_request = subpath == "" or subpath.endswith("/")
    if not (_DIRS.match(rel) if is_dir_request else _FILES.match(rel)):
        raise Http404("No such file in the CSAF provider tree.")
    found = _inside(provider.provider_root(), rel)
    if found is None:
        raise Http404("No such file in the CSAF provider tree.")
    path, info = found
    if is_dir_request:
        if not stat.S_ISDIR(info.st_mode):
            raise Http404("No such folder in the CSAF provider tree.")
        return _listing(request, path, rel, info)
    if not stat.S_ISREG(info.st_mode):
        raise Http404("No such file in the CSAF provider tree.")
    return _file(request, path, info, rel)


def _listing(request: HttpRequest, path: Path, rel: str, info: os.stat_result) -> HttpResponseBase:
    entries = []
    for item in sorted(os.scandir(path), key=lambda e: e.name):
        child = f"{rel}/{item.name}" if rel else item.name
        if item.is_dir(follow_symlinks=False) and _DIRS.match(child):
            entries.append(item.name + "/")
        elif item.is_file(follow_symlinks=False) and _FILES.match(child):
            entries.append(item.name)
    context = {"folder": "/.well-known/csaf/" + (rel + "/" if rel else ""), "entries": entries, "parent": bool(rel)}
    return _conditional(request, info, lambda: render(request, "advisories/csaf_listing.html", context))


@require_safe
def advisory_csaf(request: HttpRequest, advisory_id: str) -> HttpResponseBase:
    """The current CSAF document of a public advisory (`?lang=zh-Hans`: its translation), the same bytes as in the
    provider tree. Rendered on the spot when the tree lacks it (a write the periodic sync has not repaired yet)."""
    advisory = Advisory.objects.filter(advisory_id=advisory_id, state__in=PUBLIC_STATES).first()
    if advisory is None:
        raise Http404("No published advisory with this ID.")
    translation = request.GET.get("lang", "").lower() == TRANSLATION_LANG.lower()
    if request.GET.get("lang") and not translation and request.GET["lang"].lower() != "en":
        raise Http404("The CSAF document exists in English (en) and, for some advisories, zh-Hans.")
    root = provider.provider_root()
    rel = provider.find_document(advisory.advisory_id, translation=translation, root=root)
    if rel is not None:
        found = _inside(root, f"{provider.TLP_FOLDER}/{rel}")
        if found is not None and stat.S_ISREG(found[1].st_mode):
            return _file(request, found[0], found[1], rel)
    try:
        docs = provider.advisory_documents(advisory)
    except DocumentError:
        raise Http404("This advisory has no CSAF document (no public release is affected).") from None
    if translation and len(docs) < 2:
        raise Http404("This advisory has no Chinese translation.")
    response = HttpResponse(dumps_csaf(docs[-1] if translation else docs[0]), content_type="application/json")
    patch_cache_control(response, public=True, max_age=60)
    return response

"""The CSAF trusted provider tree: layout and filename rule, provider-metadata and ROLIE against the rules, every
document valid, hashes and signatures, listings after revisions and withdrawals, only changed files rewritten,
the publication gate, repairs, and the export command."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pysequoia
import pytest
from django.core.management import CommandError, call_command
from referencing import Registry, Resource

from psirt.accounts.models import User
from psirt.advisories import services
from psirt.advisories.csaf import documents, provider
from psirt.advisories.csaf.importer import import_csaf
from psirt.advisories.exceptions import InvalidCsafDocument
from psirt.advisories.models import Advisory, AdvisoryState, Revision
from psirt.advisories.tests.conftest import approve, make_case, revise
from psirt.catalog.tests.factories import make_line, make_product, make_release
from psirt.components.models import Vulnerability
from psirt.components.services import decide, import_sbom, import_vulnerabilities
from psirt.components.vulndata import parse_records
from psirt.formats.csaf import csaf_filename
from psirt.formats.csaf_validate import validate_csaf
from psirt.lib.signing import verify_detached
from psirt.tests.conformance import CSAF_20

SCHEMAS = CSAF_20 / "json_schema"
BASE = "https://psirt.test/.well-known/csaf"


@pytest.fixture
def tree(settings: Any, tmp_path: Path, signing_key_file: Path) -> Path:
    settings.PSIRT_VAR_DIR = tmp_path
    settings.PSIRT_SIGNING_KEY_FILE = str(signing_key_file)
    return tmp_path / "csaf"


def _publish(draft: Advisory, lead: User, committed: Callable[..., Any]) -> Advisory:
    return committed(services.publish_advisory, advisory=approve(draft, lead), actor=lead)


def _year(advisory: Advisory) -> int:
    assert advisory.published_at is not None
    return advisory.published_at.year


def _files(root: Path) -> dict[str, tuple[int, int]]:
    """Every file of the tree with (inode, mtime_ns): a rewrite changes both (os.replace of a new file)."""
    out = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.name != provider.LOCK_NAME:
            info = path.stat()
            out[str(path.relative_to(root))] = (info.st_ino, info.st_mtime_ns)
    return out


def _feed(root: Path) -> dict[str, Any]:
    return json.loads((root / "white" / provider.FEED_NAME).read_bytes())["feed"]


def _changes(root: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO((root / "white" / "changes.csv").read_text(encoding="utf-8"))))


def _documents(root: Path) -> Iterator[tuple[str, Path]]:
    for line in (root / "white" / "index.txt").read_text(encoding="utf-8").splitlines():
        yield line, root / "white" / line


def _metadata_validator() -> Any:
    csaf_schema = json.loads((SCHEMAS / "csaf_json_schema.json").read_bytes())
    registry: Registry[Any] = Registry().with_resource(csaf_schema["$id"], Resource.from_contents(csaf_schema))
    schema = json.loads((SCHEMAS / "provider_json_schema.json").read_bytes())
    return jsonschema.Draft202012Validator(
        schema, registry=registry, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


def test_the_metadata_check_asserts_the_formats_of_its_schema() -> None:
    # Without this, a provider-metadata.json with a malformed date or URL would pass _check_tree unnoticed.
    validator = _metadata_validator()
    assert validator.format_checker.conforms("2026-01-31T12:00:00Z", "date-time")
    assert not validator.format_checker.conforms("31.01.2026 12:00", "date-time")
    assert validator.format_checker.conforms("https://psirt.test/.well-known/csaf/white", "uri")
    assert not validator.format_checker.conforms("psirt.test/white", "uri")


def _check_rolie(feed: dict[str, Any], root: Path) -> None:
    """The ROLIE feed as CSAF 2.0 requirement 15 and RFC 8322 ask (the rules of the TC's auxiliary ROLIE feed schema,
    which tests-data/conformance does not hold)."""
    assert feed["id"] and all(c.isalnum() or c in "+-_." for c in feed["id"])
    assert feed["link"][0] == {"rel": "self", "href": f"{BASE}/white/{provider.FEED_NAME}"}
    assert feed["category"][0] == {"scheme": "urn:ietf:params:rolie:category:information-type", "term": "csaf"}
    assert feed["updated"] == max((e["updated"] for e in feed["entry"]), default=feed["updated"])
    for entry in feed["entry"]:
        assert {"id", "title", "link", "published", "updated", "content", "format"} <= set(entry)
        url = entry["content"]["src"]
        assert url.startswith("https://") and url.endswith(".json")
        assert entry["content"]["type"] == "application/json"
        assert entry["link"][0] == {"rel": "self", "href": url}
        rels = {(link["rel"], link["href"]) for link in entry["link"]}
        assert ("hash", url + ".sha256") in rels and ("hash", url + ".sha512") in rels
        assert ("signature", url + ".asc") in rels
        assert entry["format"] == {
            "schema": "https://docs.oasis-open.org/csaf/csaf/v2.0/csaf_json_schema.json",
            "version": "2.0",
        }
        doc = json.loads((root / "white" / url[len(BASE + "/white/") :]).read_bytes())
        tracking = doc["document"]["tracking"]
        assert entry["id"] == tracking["id"] and entry["title"] == doc["document"]["title"]
        assert (entry["published"], entry["updated"]) == (
            tracking["initial_release_date"],
            tracking["current_release_date"],
        )


def _check_tree(root: Path) -> dict[str, Any]:
    """Everything a CSAF trusted provider promises, checked on the files; returns provider-metadata."""
    metadata = json.loads((root / "provider-metadata.json").read_bytes())
    errors = [e.message for e in _metadata_validator().iter_errors(metadata)]
    assert errors == []
    assert metadata["role"] == "csaf_trusted_provider"
    assert metadata["canonical_url"] == f"{BASE}/provider-metadata.json"
    [key] = metadata["public_openpgp_keys"]
    key_rel = key["url"][len(BASE) + 1 :]
    public_key = (root / key_rel).read_text(encoding="ascii")
    assert "PRIVATE" not in public_key
    assert pysequoia.Cert.from_bytes(public_key.encode()).fingerprint.upper() == key["fingerprint"]
    [distribution] = metadata["distributions"]
    assert distribution["directory_url"] == f"{BASE}/white"
    assert distribution["rolie"]["feeds"][0]["url"] == f"{BASE}/white/{provider.FEED_NAME}"
    index = list(_documents(root))
    assert [line for line, _ in index] == sorted(line for line, _ in index)
    on_disk = {str(p.relative_to(root / "white")) for p in (root / "white").rglob("*.json") if p.parent.name != "white"}
    assert {line for line, _ in index} == on_disk
    for line, path in index:
        data = path.read_bytes()
        doc = json.loads(data)
        tracking = doc["document"]["tracking"]
        assert path.name == csaf_filename(tracking["id"])  # requirement 2, the filename rule
        assert line.split("/")[0] == tracking["initial_release_date"][:4]  # requirement 11, year folders
        assert [p for p in validate_csaf(doc) if p.severity == "error"] == []
        self_urls = [r["url"] for r in doc["document"]["references"] if r["category"] == "self"]
        assert f"{BASE}/white/{line}" in self_urls
        for algorithm in ("sha256", "sha512"):
            digest, name = path.with_name(f"{path.name}.{algorithm}").read_text(encoding="ascii").split()
            assert (digest, name) == (hashlib.new(algorithm, data).hexdigest(), path.name)
        assert verify_detached(data, path.with_name(path.name + ".asc").read_text(encoding="ascii"), public_key)
    rows = _changes(root)
    assert sorted(r[0] for r in rows) == [line for line, _ in index]
    dates = [r[1] for r in rows]
    assert dates == sorted(dates, reverse=True)  # newest first
    raw = (root / "white" / "changes.csv").read_text(encoding="utf-8")
    assert all(line.startswith('"') and line.endswith('"') for line in raw.splitlines())  # quoted as in the spec
    feed = _feed(root)
    _check_rolie(feed, root)
    assert sorted(e["content"]["src"] for e in feed["entry"]) == sorted(f"{BASE}/white/{line}" for line, _ in index)
    return metadata


# --- publication -------------------------------------------------------------------------------------------------


def test_publication_writes_a_complete_trusted_provider_tree(
    draft: Advisory, lead: User, tree: Path, committed: Callable[..., Any]
) -> None:
    advisory = _publish(draft, lead, committed)
    metadata = _check_tree(tree)
    year = _year(advisory)
    name = csaf_filename(advisory.advisory_id)
    assert (tree / "white" / str(year) / name).is_file()
    assert [line for line, _ in _documents(tree)] == [f"{year}/{name}"]
    assert metadata["publisher"]["category"] == "vendor"
    doc = json.loads((tree / "white" / str(year) / name).read_bytes())
    assert metadata["publisher"]["name"] == doc["document"]["publisher"]["name"]  # requirement 7: they match


def test_translation_lives_in_its_own_folder_and_is_listed(
    draft: Advisory, lead: User, tree: Path, committed: Callable[..., Any]
) -> None:
    services.update_advisory(advisory=draft, actor=lead, changes={"title_zh": "网页界面远程代码执行"})
    advisory = _publish(draft, lead, committed)
    name = csaf_filename(advisory.advisory_id)
    year = _year(advisory)
    zh = tree / "white" / str(year) / "zh-hans" / name
    doc = json.loads(zh.read_bytes())
    assert (doc["document"]["lang"], doc["document"]["source_lang"]) == ("zh-Hans", "en")
    assert doc["document"]["tracking"]["id"] == advisory.advisory_id
    assert f"{year}/zh-hans/{name}" in [line for line, _ in _documents(tree)]
    _check_tree(tree)


def test_revision_updates_listings_and_rewrites_only_what_changed(
    draft: Advisory, lead: User, tree: Path, committed: Callable[..., Any], handler: User, product: Any
) -> None:
    first = _publish(draft, lead, committed)
    # Published an hour ago: the revision below must get a later current_release_date (second precision).
    hour = dt.timedelta(hours=1)
    assert first.published_at is not None
    Advisory.objects.filter(pk=first.pk).update(published_at=first.published_at - hour)
    Revision.objects.filter(advisory=first).update(date=first.published_at - hour)
    first.refresh_from_db()
    provider.sync_provider(full=True)
    other_case = make_case(product=product, title="Weak session tokens", disclosure_date=draft.created_at.date())
    other = services.create_advisory(cases=[other_case], actor=lead)
    other = services.update_advisory(
        advisory=other,
        actor=lead,
        changes={"workarounds_en": "Restrict access.", "mitigation_sufficient": True},
        affected=[services.AffectedInput(product=product)],
    )
    other = _publish(other, lead, committed)
    before = _files(tree)
    committed(
        revise,
        advisory=first,
        actor=lead,
        changes={"impact_en": "Full control of the camera."},
        revision_summary_en="Impact described.",
    )
    after = _files(tree)
    rel = f"white/{_year(first)}/{csaf_filename(first.advisory_id)}"
    changed = {name for name in after if after[name] != before.get(name)}
    assert changed == {
        rel,
        rel + ".sha256",
        rel + ".sha512",
        rel + ".asc",
        "white/changes.csv",
        f"white/{provider.FEED_NAME}",
    }
    assert set(after) == set(before)
    rows = _changes(tree)
    assert rows[0][0] == rel[len("white/") :]  # the revised document is now the newest change
    doc = json.loads((tree / rel).read_bytes())
    assert doc["document"]["tracking"]["version"] == "2"
    assert rows[0][1] == doc["document"]["tracking"]["current_release_date"]
    _check_tree(tree)
    assert csaf_filename(other.advisory_id) in (tree / "white" / "index.txt").read_text()


def test_republishing_the_same_documents_writes_nothing(published_in_tree: Advisory, tree: Path) -> None:
    before = _files(tree)
    changes = provider.update_documents(provider.advisory_documents(published_in_tree))
    assert not changes and _files(tree) == before


@pytest.fixture
def published_in_tree(draft: Advisory, lead: User, tree: Path, committed: Callable[..., Any]) -> Advisory:
    return _publish(draft, lead, committed)


def test_withdrawal_keeps_the_document_with_a_final_revision(
    published_in_tree: Advisory, lead: User, tree: Path, committed: Callable[..., Any]
) -> None:
    committed(services.withdraw_advisory, advisory=published_in_tree, actor=lead, reason="Duplicate of SA-1.")
    rel = f"{_year(published_in_tree)}/{csaf_filename(published_in_tree.advisory_id)}"
    doc = json.loads((tree / "white" / rel).read_bytes())
    last = doc["document"]["tracking"]["revision_history"][-1]
    assert last["summary"] == "Withdrawn: Duplicate of SA-1."
    assert doc["document"]["tracking"]["version"] == last["number"] == "2"
    assert _changes(tree)[0] == [rel, doc["document"]["tracking"]["current_release_date"]]
    assert _feed(tree)["entry"][0]["updated"] == doc["document"]["tracking"]["current_release_date"]
    _check_tree(tree)


def test_an_invalid_document_refuses_publication_and_writes_nothing(
    draft: Advisory, lead: User, tree: Path, committed: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, mailoutbox
) -> None:
    real = provider.advisory_documents

    def broken(advisory: Advisory) -> list[dict[str, Any]]:
        docs = real(advisory)
        docs[0]["document"]["tracking"]["version"] = "7"  # not the latest revision: mandatory test 6.1.16
        return docs

    monkeypatch.setattr(provider, "advisory_documents", broken)
    approved = approve(draft, lead)
    with pytest.raises(InvalidCsafDocument) as info:
        committed(services.publish_advisory, advisory=approved, actor=lead)
    assert info.value.test == "6.1.16"
    assert info.value.path == "/document/tracking/version"
    assert "6.1.16" in info.value.message and "/document/tracking/version" in info.value.message
    assert info.value.status == 409
    approved.refresh_from_db()
    assert approved.state == AdvisoryState.APPROVED and approved.published_at is None
    assert not approved.revisions.exists()
    assert not tree.exists() or _files(tree) == {}
    assert mailoutbox == []


def test_an_advisory_without_a_document_is_not_published(
    lead: User, tree: Path, product: Any, committed: Callable[..., Any], yesterday: Any
) -> None:
    case = make_case(product=product, disclosure_date=yesterday)
    advisory = services.create_advisory(cases=[case], actor=lead)
    advisory = services.update_advisory(
        advisory=advisory,
        actor=lead,
        changes={"workarounds_en": "Unplug it.", "mitigation_sufficient": True},
        affected=[services.AffectedInput(product=product)],  # the product has no release in the catalog
    )
    with pytest.raises(InvalidCsafDocument, match="public firmware release"):
        committed(services.publish_advisory, advisory=approve(advisory, lead), actor=lead)
    assert Advisory.objects.get(pk=advisory.pk).state == AdvisoryState.APPROVED


def test_desk_shows_the_refusal(
    draft: Advisory, lead: User, tree: Path, monkeypatch: pytest.MonkeyPatch, as_lead: Any
) -> None:
    def refuse(advisory: Advisory) -> list[dict[str, Any]]:
        raise InvalidCsafDocument("The CSAF document fails CSAF test 6.1.16 at /document/tracking/version.")

    from psirt.advisories.services import publication

    # Publishing looks the function up in its own module, so the patch goes there.
    monkeypatch.setattr(publication, "csaf_documents_for_publication", refuse)
    approved = approve(draft, lead)
    response = as_lead.post(f"/en/desk/advisories/{approved.public_id}/action/", {"op": "publish"}, follow=True)
    assert "6.1.16" in response.content.decode()
    approved.refresh_from_db()
    assert approved.state == AdvisoryState.APPROVED


def test_a_failed_write_keeps_the_publication_and_the_sync_repairs_it(
    draft: Advisory, lead: User, tree: Path, committed: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, caplog
) -> None:
    def disk_full(docs: Any, **kwargs: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("psirt.advisories.csaf.provider.sync.update_documents", disk_full)
    advisory = _publish(draft, lead, committed)
    assert advisory.state == AdvisoryState.PUBLISHED
    assert "sync_csaf_provider task will repair it" in caplog.text
    assert not (tree / "white").exists()
    monkeypatch.undo()
    summary = provider.sync_provider()
    assert summary.rendered == 1
    _check_tree(tree)
    # Nothing left to do: a second quick sync renders nothing and writes nothing.
    before = _files(tree)
    again = provider.sync_provider()
    assert (again.rendered, again.changes.written) == (0, [])
    assert _files(tree) == before


def test_a_failed_write_after_an_import_keeps_the_import_and_the_sync_repairs_it(
    draft: Advisory, lead: User, tree: Path, committed: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, caplog
) -> None:
    english, _translation = documents.csaf_documents(_publish(draft, lead, committed))
    english["document"]["tracking"]["id"] = "ACME-IMPORTED-1"

    def disk_full(docs: Any, **kwargs: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("psirt.advisories.csaf.provider.sync.update_documents", disk_full)
    result = committed(import_csaf, document=english, source="acme.json")
    assert result.outcome == "imported", result.line
    assert Advisory.objects.filter(advisory_id="ACME-IMPORTED-1", state=AdvisoryState.PUBLISHED).exists()
    assert "CSAF provider tree not updated for ACME-IMPORTED-1" in caplog.text
    assert "sync_csaf_provider task will repair it" in caplog.text
    monkeypatch.undo()
    assert provider.sync_provider().rendered == 1
    assert any(path.name == csaf_filename("ACME-IMPORTED-1") for _rel, path in _documents(tree))


def test_sync_restores_missing_files_and_removes_what_is_not_public(
    published_in_tree: Advisory, tree: Path, draft: Advisory
) -> None:
    rel = tree / "white" / str(_year(published_in_tree)) / csaf_filename(published_in_tree.advisory_id)
    rel.with_name(rel.name + ".asc").unlink()
    stray = tree / "white" / "2020" / "acme-sa-2020-001.json"
    stray.parent.mkdir(parents=True)
    stray.write_text("{}")
    provider.sync_provider()
    assert rel.with_name(rel.name + ".asc").is_file() and not stray.exists()
    _check_tree(tree)


def test_drafts_never_reach_the_tree(
    draft: Advisory, lead: User, tree: Path, committed: Callable[..., Any], client: Any, product: Any, yesterday: Any
) -> None:
    case = make_case(product=product, disclosure_date=yesterday, title="Still secret")
    secret = services.create_advisory(cases=[case], actor=lead)
    _publish(draft, lead, committed)
    provider.sync_provider(full=True)
    everything = "".join(p.read_text(errors="replace") for p in tree.rglob("*") if p.is_file())
    assert secret.advisory_id not in everything and "Still secret" not in everything
    assert client.get(f"/advisories/{secret.advisory_id}/csaf.json").status_code == 404


def test_a_new_signing_key_re_signs_the_tree(
    published_in_tree: Advisory, tree: Path, settings: Any, tmp_path: Path
) -> None:
    new_key = tmp_path / "new.asc"
    new_key.write_text(str(pysequoia.Tsk.generate("Rotated <psirt@example.com>")), encoding="ascii")
    settings.PSIRT_SIGNING_KEY_FILE = str(new_key)
    provider.sync_provider()
    metadata = _check_tree(tree)
    assert metadata["public_openpgp_keys"][0]["fingerprint"] == provider.current_key().fingerprint  # type: ignore[union-attr]


def test_without_a_signing_key_the_tree_is_an_unsigned_csaf_provider(
    draft: Advisory, lead: User, tree: Path, settings: Any, committed: Callable[..., Any]
) -> None:
    settings.PSIRT_SIGNING_KEY_FILE = None
    settings.PSIRT_DEV = False
    _publish(draft, lead, committed)
    metadata = json.loads((tree / "provider-metadata.json").read_bytes())
    assert metadata["role"] == "csaf_provider" and "public_openpgp_keys" not in metadata
    assert list(tree.rglob("*.asc")) == []
    assert all(link["rel"] != "signature" for e in _feed(tree)["entry"] for link in e["link"])
    assert list(_metadata_validator().iter_errors(metadata)) == []


# --- over HTTP ------------------------------------------------------------------------------------------------------


def test_the_tree_is_served_with_types_validators_and_listings(
    published_in_tree: Advisory, tree: Path, client: Any
) -> None:
    year = _year(published_in_tree)
    name = csaf_filename(published_in_tree.advisory_id)
    expected = {
        "/.well-known/csaf/provider-metadata.json": "application/json",
        f"/.well-known/csaf/white/{year}/{name}": "application/json",
        f"/.well-known/csaf/white/{year}/{name}.sha256": "text/plain; charset=utf-8",
        f"/.well-known/csaf/white/{year}/{name}.sha512": "text/plain; charset=utf-8",
        f"/.well-known/csaf/white/{year}/{name}.asc": "application/pgp-signature",
        "/.well-known/csaf/white/index.txt": "text/plain; charset=utf-8",
        "/.well-known/csaf/white/changes.csv": "text/csv; charset=utf-8",
        f"/.well-known/csaf/white/{provider.FEED_NAME}": "application/json",
    }
    for url, content_type in expected.items():
        response = client.get(url)
        assert response.status_code == 200, url
        assert response["Content-Type"] == content_type, url
        body = b"".join(response.streaming_content)
        assert body == (tree / url[len("/.well-known/csaf/") :]).read_bytes()
        again = client.get(url, HTTP_IF_NONE_MATCH=response["ETag"])
        assert again.status_code == 304, url
        assert client.get(url, HTTP_IF_MODIFIED_SINCE=response["Last-Modified"]).status_code == 304
    key_url = json.loads((tree / "provider-metadata.json").read_bytes())["public_openpgp_keys"][0]["url"]
    response = client.get(key_url[len("https://psirt.test") :])
    assert response["Content-Type"] == "application/pgp-keys"
    for folder in ("/.well-known/csaf/", "/.well-known/csaf/white/", f"/.well-known/csaf/white/{year}/"):
        listing = client.get(folder)
        assert listing.status_code == 200 and listing["Content-Type"].startswith("text/html")
    assert name in client.get(f"/.well-known/csaf/white/{year}/").content.decode()
    assert provider.LOCK_NAME not in client.get("/.well-known/csaf/").content.decode()
    assert client.post("/.well-known/csaf/provider-metadata.json").status_code == 405


@pytest.mark.parametrize(
    "path",
    [
        "/.well-known/csaf/../../settings.py",
        "/.well-known/csaf/%2e%2e/%2e%2e/etc/passwd",
        "/.well-known/csaf/white/..%2f..%2f..%2fpsirt.sqlite3",
        "/.well-known/csaf/white/2026/../../.lock",
        "/.well-known/csaf/.lock",
        "/.well-known/csaf/white/2026/.x.json.1.tmp",
        "/.well-known/csaf/white//etc/passwd",
        "/.well-known/csaf/white/2026/%00.json",
        "/.well-known/csaf/keys/signing-key.asc",
        "/.well-known/csaf/white/2026/nope.json",
        "/.well-known/csaf/white/2026/linked.json",
        "/.well-known/csaf/white/9999/",
    ],
)
def test_path_tricks_get_404(published_in_tree: Advisory, tree: Path, client: Any, path: str) -> None:
    folder = tree / "white" / "2026"
    folder.mkdir(parents=True, exist_ok=True)
    secret = tree.parent / "secret.txt"
    secret.write_text("secret")
    link = folder / "linked.json"
    if not link.exists():
        link.symlink_to(secret)
    response = client.get(path)
    assert response.status_code == 404
    assert b"secret" not in (b"".join(response.streaming_content) if response.streaming else response.content)


def test_advisory_csaf_route_serves_the_current_documents(
    draft: Advisory, lead: User, tree: Path, client: Any, committed: Callable[..., Any]
) -> None:
    services.update_advisory(advisory=draft, actor=lead, changes={"title_zh": "远程代码执行"})
    advisory = _publish(draft, lead, committed)
    en = client.get(f"/advisories/{advisory.advisory_id}/csaf.json")
    assert en.status_code == 200 and en["Content-Type"] == "application/json"
    rel = tree / "white" / str(_year(advisory)) / csaf_filename(advisory.advisory_id)
    assert b"".join(en.streaming_content) == rel.read_bytes()
    zh = client.get(f"/advisories/{advisory.advisory_id}/csaf.json?lang=zh-Hans")
    assert json.loads(b"".join(zh.streaming_content))["document"]["lang"] == "zh-Hans"
    assert client.get(f"/advisories/{advisory.advisory_id}/csaf.json?lang=fr").status_code == 404
    # A tree that lost the file (a failed write not yet repaired) still answers, with the same bytes.
    data = rel.read_bytes()
    rel.unlink()
    fallback = client.get(f"/advisories/{advisory.advisory_id}/csaf.json")
    assert fallback.status_code == 200 and fallback.content == data


def test_public_page_links_the_document_hashes_signature_and_translation(
    draft: Advisory, lead: User, tree: Path, client: Any, committed: Callable[..., Any]
) -> None:
    services.update_advisory(advisory=draft, actor=lead, changes={"title_zh": "远程代码执行"})
    advisory = _publish(draft, lead, committed)
    html = client.get(f"/en/advisories/{advisory.advisory_id}/").content.decode()
    year = _year(advisory)
    name = csaf_filename(advisory.advisory_id)
    assert f'href="/advisories/{advisory.advisory_id}/csaf.json"' in html
    for suffix in (".sha256", ".sha512", ".asc"):
        assert f'href="/.well-known/csaf/white/{year}/{name}{suffix}"' in html
    assert f'href="/advisories/{advisory.advisory_id}/csaf.json?lang=zh-Hans"' in html


# --- export ---------------------------------------------------------------------------------------------------------


def test_export_command_writes_the_same_tree_and_refuses_a_non_empty_folder(
    published_in_tree: Advisory, tree: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "export"
    call_command("export_csaf", str(out))
    assert "Wrote 1 CSAF documents and 0 translations" in capsys.readouterr().out
    _check_tree(out)
    for line, path in _documents(tree):
        assert (out / "white" / line).read_bytes() == path.read_bytes()
    for name in ("white/index.txt", "white/changes.csv", f"white/{provider.FEED_NAME}"):
        assert (out / name).read_bytes() == (tree / name).read_bytes()
    with pytest.raises(CommandError, match="not empty"):
        call_command("export_csaf", str(out))
    (out / "white" / "2019").mkdir()
    (out / "white" / "2019" / "old.json").write_text("{}")
    (out / "README").write_text("mine")
    call_command("export_csaf", str(out), "--force")
    assert not (out / "white" / "2019").exists() and (out / "README").read_text() == "mine"
    _check_tree(out)


def test_export_cli_alias(tmp_path: Path) -> None:
    from psirt.cli import ALIASES

    assert ALIASES["export-csaf"] == "export_csaf"


def test_listings_survive_hostile_titles_and_a_damaged_feed(
    draft: Advisory, lead: User, tree: Path, committed: Callable[..., Any]
) -> None:
    title = 'Camera "X5" RCE ,"updated":"1999-01-01T00:00:00Z"} \\ 摄像机'
    services.update_advisory(advisory=draft, actor=lead, changes={"title_en": title})
    advisory = _publish(draft, lead, committed)
    assert _feed(tree)["entry"][0]["title"] == title
    feed = tree / "white" / provider.FEED_NAME
    feed.write_bytes(feed.read_bytes()[:-40])  # cut short, e.g. by a full disk
    committed(
        revise,
        advisory=advisory,
        actor=lead,
        changes={"impact_en": "Worse."},
        revision_summary_en="Impact.",
    )
    _check_tree(tree)
    assert _feed(tree)["entry"][0]["title"] == title


def test_a_revision_that_drops_the_chinese_title_removes_the_translation(
    draft: Advisory, lead: User, tree: Path, committed: Callable[..., Any]
) -> None:
    services.update_advisory(advisory=draft, actor=lead, changes={"title_zh": "远程代码执行"})
    advisory = _publish(draft, lead, committed)
    zh = tree / "white" / str(_year(advisory)) / "zh-hans" / csaf_filename(advisory.advisory_id)
    assert zh.is_file()
    committed(
        revise,
        advisory=advisory,
        actor=lead,
        changes={"title_zh": ""},
        revision_summary_en="Chinese text withdrawn for review.",
    )
    assert not zh.exists() and not zh.with_name(zh.name + ".asc").exists()
    _check_tree(tree)


def test_the_demo_data_gives_a_complete_valid_tree(db: None, tree: Path, settings: Any, tmp_path: Path) -> None:
    from psirt.demo import catalog as catalog_demo
    from psirt.demo.advisories import load_demo_advisories

    settings.PSIRT_DEMO_PASSWORD = "demo-password-Quokka-42"
    lines: list[str] = []
    catalog_demo.load_organization(lines.append)
    catalog_demo.load_catalog(lines.append)
    catalog_demo.load_accounts(lines.append)
    load_demo_advisories(lines.append)
    public = Advisory.objects.filter(state__in=["published", "withdrawn"])
    summary = provider.sync_provider()
    assert summary.failed == [] and summary.rendered == public.count() > 0
    _check_tree(tree)
    listed = (tree / "white" / "index.txt").read_text()
    assert all(csaf_filename(a.advisory_id) in listed for a in public)
    call_command("export_csaf", str(tmp_path / "export"))
    for line, path in _documents(tree):
        assert (tmp_path / "export" / "white" / line).read_bytes() == path.read_bytes()


def test_configuring_a_key_later_signs_the_whole_tree_at_the_next_publication(
    published_in_tree: Advisory,
    tree: Path,
    settings: Any,
    signing_key_file: Path,
    product: Any,
    lead: User,
    yesterday: Any,
    committed: Callable[..., Any],
) -> None:
    settings.PSIRT_SIGNING_KEY_FILE = None
    provider.sync_provider(full=True)
    for asc in tree.rglob("*.asc"):
        if asc.parent.name != provider.KEY_FOLDER:
            asc.unlink()
    provider.sync_provider(full=True)
    assert json.loads((tree / "provider-metadata.json").read_bytes())["role"] == "csaf_provider"
    settings.PSIRT_SIGNING_KEY_FILE = str(signing_key_file)
    case = make_case(product=product, disclosure_date=yesterday, title="Second issue")
    second = services.create_advisory(cases=[case], actor=lead)
    second = services.update_advisory(
        advisory=second,
        actor=lead,
        changes={"workarounds_en": "Restrict access.", "mitigation_sufficient": True},
        affected=[services.AffectedInput(product=product)],
    )
    _publish(second, lead, committed)
    _check_tree(tree)  # both documents signed, the feed lists both signatures, role trusted provider again


# --- VEX documents of the components' decisions --------------------------------------------------------------------


def test_vex_decisions_are_published_signed_and_listed(lead: User, tree: Path, committed: Callable[..., Any]) -> None:
    product = make_product(make_line("vex-line"), "vex-cam")
    old, new = make_release(product, "1.0", position=1), make_release(product, "2.0", position=2)
    sbom = b'{"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1, "components": [{"type": "library", '
    sbom += b'"name": "openssl", "version": "3.0.13", "purl": "pkg:generic/openssl@3.0.13"}]}'
    import_sbom(release=old, data=sbom, actor=lead)
    osv = {
        "id": "CVE-2024-5535",
        "modified": "2024-06-01T00:00:00Z",
        "affected": [
            {
                "package": {"ecosystem": "OSS-Fuzz", "name": "openssl"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "3.0.0"}, {"fixed": "3.0.14"}]}],
            }
        ],
    }
    import_vulnerabilities(records=parse_records(osv, origin="test"))
    vuln = Vulnerability.objects.get(vuln_id="CVE-2024-5535")
    committed(decide, releases=[old], vulnerability=vuln, status="affected", action_statement="Update.", actor=lead)
    committed(decide, releases=[new], vulnerability=vuln, status="fixed", actor=lead)
    _check_tree(tree)
    [line] = [line for line, _ in _documents(tree)]
    assert line.endswith("/vex-cve-2024-5535.json")
    doc = json.loads((tree / "white" / line).read_bytes())
    assert doc["document"]["category"] == "csaf_vex"
    assert doc["vulnerabilities"][0]["product_status"] == {"fixed": ["vex-cam:2.0"], "known_affected": ["vex-cam:1.0"]}
    # the periodic repair rebuilds the same tree from the database
    (tree / "white" / line).unlink()
    provider.sync_provider(full=True, root=tree)
    _check_tree(tree)
    assert [line for line, _ in _documents(tree)] == [line]
    # a Chinese statement adds the zh-Hans translation next to it, like an advisory's
    committed(
        decide,
        releases=[old],
        vulnerability=vuln,
        status="affected",
        action_statement="Update.",
        action_statement_zh="请升级。",
        actor=lead,
    )
    _check_tree(tree)
    listed = sorted(line for line, _ in _documents(tree))
    assert listed == sorted([line, line.replace("/vex-cve", "/zh-hans/vex-cve")])
    translation = json.loads((tree / "white" / line.replace("/vex-cve", "/zh-hans/vex-cve")).read_bytes())
    assert translation["document"]["lang"] == "zh-Hans"
    assert translation["vulnerabilities"][0]["remediations"][0]["details"] == "请升级。"

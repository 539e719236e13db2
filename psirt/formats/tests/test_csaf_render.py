"""render_csaf / render_csaf_translation: every document valid, and saying what the advisory says."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from psirt.formats.csaf import (
    csaf_document_url,
    csaf_filename,
    dumps_csaf,
    render_csaf,
    render_csaf_translation,
)
from psirt.formats.csaf_validate import run_csaf_test, validate_csaf
from psirt.formats.model import (
    CvssV3,
    Product,
    ProductStatus,
    Revision,
    Text,
    Version,
    product_id,
)
from psirt.formats.tests import factories
from psirt.formats.tests.factories import at
from psirt.tests.conformance import CSAF_20

# What full validation (optional + informative tests too) may still say about a factory document, and why.
EXPECTED_FINDINGS = {
    "standard": set(),
    "many_products": set(),
    # Informative 6.3.3: there is no CVE to give.
    "without_cve": {"6.3.3"},
    # Optional 6.2.3 "missing score": CSAF 2.0 cannot carry a v4.0 score; informative 6.3.9/6.3.10: the thermostat's
    # old releases are a version range (a legitimate CSAF construct the informative tests discourage).
    "v4_only": {"6.2.3", "6.3.9", "6.3.10"},
}


def _documents(name: str) -> list[dict]:
    advisory = factories.ALL_FACTORIES[name]()
    docs = [render_csaf(advisory)]
    if (translation := render_csaf_translation(advisory)) is not None:
        docs.append(translation)
    return docs


@pytest.mark.parametrize("name", sorted(EXPECTED_FINDINGS))
def test_every_factory_document_passes_strict_schema_and_all_mandatory_tests(name: str) -> None:
    for doc in _documents(name):
        assert validate_csaf(doc) == [], doc["document"]["lang"]
        findings = {p.test for p in validate_csaf(doc, warnings=True)}
        assert findings == EXPECTED_FINDINGS[name], doc["document"]["lang"]


def test_translation_keeps_tracking_id_and_says_its_languages() -> None:
    advisory = factories.advisory()
    original, translation = render_csaf(advisory), render_csaf_translation(advisory)
    assert translation is not None
    assert translation["document"]["tracking"]["id"] == original["document"]["tracking"]["id"] == "VT-SA-2026-004"
    assert original["document"]["lang"] == "en" and "source_lang" not in original["document"]
    assert translation["document"]["lang"] == "zh-Hans"
    assert translation["document"]["source_lang"] == "en"
    assert translation["document"]["title"] == "IPC-2325 摄像机命令注入漏洞"
    assert translation["vulnerabilities"][0]["title"] == "Web 界面命令注入"
    assert [r["summary"] for r in translation["document"]["tracking"]["revision_history"]] == [
        "首次发布。",
        "补充 CNNVD 编号。",
    ]
    # The product tree and the statuses are the same: only text is translated.
    assert translation["product_tree"] == original["product_tree"]
    assert translation["vulnerabilities"][0]["product_status"] == original["vulnerabilities"][0]["product_status"]
    self_refs = [r["url"] for r in translation["document"]["references"] if r["category"] == "self"]
    assert advisory.csaf_translation_url in self_refs and advisory.csaf_url not in self_refs


def test_translation_falls_back_to_english_where_chinese_is_missing() -> None:
    advisory = factories.advisory(impact=Text("Full control of the camera."))
    translation = render_csaf_translation(advisory)
    assert translation is not None
    impact = [n for n in translation["document"]["notes"] if n["title"] == "影响"]
    assert impact[0]["text"] == "Full control of the camera."


def test_no_translation_without_chinese_title() -> None:
    assert render_csaf_translation(factories.advisory_without_cve()) is None


def test_translation_needs_its_own_url() -> None:
    with pytest.raises(ValueError, match="csaf_translation_url"):
        render_csaf_translation(factories.advisory(csaf_translation_url=""))


def test_revision_history_sorted_by_date_then_number() -> None:
    day = at(2026, 4, 2)
    advisory = factories.advisory(
        revisions=(
            Revision("3", day, Text("Corrected the fixed version.")),
            Revision("1", at(2026, 3, 24), Text("Initial release.")),
            Revision("2", day, Text("Added the CNNVD ID.")),
        ),
        current_release_date=day,
    )
    doc = render_csaf(advisory)
    tracking = doc["document"]["tracking"]
    assert [r["number"] for r in tracking["revision_history"]] == ["1", "2", "3"]
    assert tracking["version"] == "3"
    for test in ("6.1.14", "6.1.16", "6.1.21", "6.1.22"):
        assert run_csaf_test(doc, test) == [], test


def test_semantic_version_numbers_sort_numerically() -> None:
    advisory = factories.advisory(
        revisions=(
            Revision("1.10.0", at(2026, 5, 1), Text("Tenth update.")),
            Revision("1.9.0", at(2026, 4, 1), Text("Ninth update.")),
            Revision("1.0.0", at(2026, 3, 24), Text("Initial release.")),
        ),
        current_release_date=at(2026, 5, 1),
    )
    doc = render_csaf(advisory)
    assert [r["number"] for r in doc["document"]["tracking"]["revision_history"]] == ["1.0.0", "1.9.0", "1.10.0"]
    assert doc["document"]["tracking"]["version"] == "1.10.0"
    assert validate_csaf(doc) == []


def test_document_metadata() -> None:
    advisory = factories.advisory()
    doc = render_csaf(advisory)["document"]
    assert doc["category"] == "csaf_security_advisory" and doc["csaf_version"] == "2.0"
    assert doc["distribution"] == {"tlp": {"label": "WHITE", "url": "https://www.first.org/tlp/"}}
    assert doc["publisher"]["category"] == "vendor"
    assert doc["publisher"]["namespace"] == "https://security.visiontek.example"
    assert doc["tracking"]["status"] == "final"
    assert doc["tracking"]["initial_release_date"] == "2026-03-24T09:00:00Z"
    assert doc["tracking"]["current_release_date"] == "2026-04-02T09:00:00Z"
    assert doc["aggregate_severity"] == {"text": "High"}
    assert {n["category"] for n in doc["notes"]} == {"summary", "description", "general", "legal_disclaimer"}
    assert doc["acknowledgments"] == [{"names": ["Li Wei"], "organization": "Example Security Lab"}]
    canonical = [r for r in doc["references"] if r["category"] == "self" and r["url"].endswith(".json")]
    assert canonical[0]["url"] == ("https://security.visiontek.example/.well-known/csaf/white/2026/vt-sa-2026-004.json")
    assert run_csaf_test(render_csaf(advisory), "6.2.11") == []  # canonical URL ends in the file name


def test_vulnerability_fields() -> None:
    vuln = render_csaf(factories.advisory())["vulnerabilities"][0]
    assert vuln["cve"] == "CVE-2026-21001"
    assert vuln["ids"] == [
        {"system_name": "CNVD", "text": "CNVD-2026-04512"},
        {"system_name": "CNNVD", "text": "CNNVD-202603-1187"},
    ]
    # The catalog name, so that test 6.1.11 agrees.
    assert vuln["cwe"] == {
        "id": "CWE-78",
        "name": "Improper Neutralization of Special Elements used in an OS Command ('OS Command Injection')",
    }
    affected = vuln["product_status"]["known_affected"]
    assert affected == ["CSAFPID-ipc-2325-r-5-5-0", "CSAFPID-ipc-2325-r-5-5-2"]
    assert vuln["product_status"]["first_fixed"] == ["CSAFPID-ipc-2325-r-5-5-3"]
    (score,) = vuln["scores"]
    assert score["products"] == affected  # never the fixed ones (optional test 6.2.19)
    cvss = score["cvss_v3"]
    assert cvss["version"] == "3.1"
    assert cvss["vectorString"] == "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H/E:P/RL:O/RC:C"
    assert (cvss["baseScore"], cvss["baseSeverity"]) == (8.8, "HIGH")
    assert (cvss["temporalScore"], cvss["temporalSeverity"]) == (7.9, "HIGH")  # 8.8 × 0.94 × 0.95, rounded up
    assert "environmentalScore" not in cvss
    assert vuln["threats"] == [
        {
            "category": "exploit_status",
            "date": "2026-03-20T09:00:00Z",
            "details": "A proof-of-concept exploit is publicly available.",
        }
    ]
    assert [r["category"] for r in vuln["remediations"]] == ["vendor_fix", "workaround"]
    assert vuln["remediations"][0]["url"] == "https://www.visiontek.example/support/firmware/ipc-2325"
    assert vuln["remediations"][0]["product_ids"] == affected
    assert vuln["discovery_date"] == "2026-01-12T09:00:00Z" and vuln["release_date"] == "2026-03-24T09:00:00Z"
    v4 = [n for n in vuln["notes"] if n["title"] == "CVSS v4.0"]
    assert v4 and "CVSS:4.0/AV:N/AC:L/AT:N/PR:L/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:P" in v4[0]["text"]


def test_environmental_metrics_give_environmental_score() -> None:
    vuln = render_csaf(factories.advisory_many_products())["vulnerabilities"][0]
    cvss = vuln["scores"][0]["cvss_v3"]
    assert cvss["vectorString"].endswith("/CR:H/MAV:A")
    assert cvss["environmentalScore"] == CvssV3.from_vector(cvss["vectorString"]).environmental_score
    assert cvss["environmentalSeverity"] == "HIGH"


def test_v4_only_has_a_note_and_no_scores() -> None:
    vuln = render_csaf(factories.advisory_v4_only())["vulnerabilities"][0]
    assert "scores" not in vuln
    (note,) = [n for n in vuln["notes"] if n["category"] == "other"]
    assert note["text"].startswith("CVSS v4.0 vector CVSS:4.0/AV:A/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:L/SI:L/SA:L")
    assert vuln["threats"][0]["details"] == "The vulnerability is being actively exploited."


def _products(tree: dict) -> dict[str, tuple[str, list[str]]]:
    """product_id → (category of its branch, categories of the branches above it)."""
    out: dict[str, tuple[str, list[str]]] = {}

    def walk(branches: list[dict], path: list[str]) -> None:
        for branch in branches:
            if "product" in branch:
                out[branch["product"]["product_id"]] = (branch["category"], path)
            walk(branch.get("branches", []), [*path, branch["category"]])

    walk(tree["branches"], [])
    return out


def test_hardware_revisions_become_installed_on_relationships() -> None:
    advisory = factories.advisory_many_products()
    tree = render_csaf(advisory)["product_tree"]
    nvr = factories.recorder()
    pairs = {r["full_product_name"]["product_id"]: r for r in tree["relationships"]}
    pid = product_id(nvr, nvr.versions[0], "B2")
    assert pid == "CSAFPID-nvr-3200-4.2.1-on-hw-b2"
    assert pairs[pid]["category"] == "installed_on"
    assert pairs[pid]["product_reference"] == "CSAFPID-nvr-3200-4.2.1"
    assert pairs[pid]["relates_to_product_reference"] == "CSAFPID-nvr-3200-hw-b2"
    assert pairs[pid]["full_product_name"]["name"] == (
        "VisionTek NVR-3200 firmware 4.2.1 installed on NVR-3200 hardware revision B2"
    )
    products = _products(tree)
    assert products["CSAFPID-nvr-3200-hw-a1"] == ("product_version", ["vendor", "product_family", "product_name"])
    # The EU variant sits under a specification branch.
    assert products["CSAFPID-nvr-3200-eu-4.2.1"] == (
        "product_version",
        ["vendor", "product_family", "product_name", "specification"],
    )
    # Two vendors' products would be two vendor branches; here one vendor, one product line.
    assert [b["name"] for b in tree["branches"]] == ["VisionTek"]


def test_products_without_status_are_left_out_of_the_tree() -> None:
    cam = factories.camera(versions=(*factories.camera().versions, Version("5.4.9")))
    advisory = factories.advisory(products=(cam,))
    products = _products(render_csaf(advisory)["product_tree"])
    assert "CSAFPID-ipc-2325-5.4.9" not in products
    assert validate_csaf(render_csaf(advisory), warnings=True) == []


def test_product_ids_stay_the_same_across_revisions() -> None:
    first = factories.advisory(
        revisions=(Revision("1", at(2026, 3, 24), Text("Initial release.")),), current_release_date=at(2026, 3, 24)
    )
    extra = Version("5.5.1 build 211201", release_id="r-5-5-1")
    cam = factories.camera(versions=(*factories.camera().versions, extra))
    vuln = factories.camera_vulnerability()
    status = replace(vuln.product_status, known_affected=(*vuln.product_status.known_affected, cam.version_id(extra)))
    second = factories.advisory(products=(cam,), vulnerabilities=(replace(vuln, product_status=status),))
    ids_first = set(_products(render_csaf(first)["product_tree"]))
    ids_second = set(_products(render_csaf(second)["product_tree"]))
    assert ids_first < ids_second
    assert ids_second - ids_first == {"CSAFPID-ipc-2325-r-5-5-1"}


def test_unknown_product_id_in_a_status_is_refused() -> None:
    vuln = factories.camera_vulnerability(
        product_status=ProductStatus(known_affected=("CSAFPID-nope-1",)), remediations=()
    )
    with pytest.raises(ValueError, match="CSAFPID-nope-1"):
        render_csaf(factories.advisory(vulnerabilities=(vuln,)))


def test_colliding_product_ids_are_refused() -> None:
    cam = Product(slug="cam", name="Cam", vendor="V", versions=(Version("5-5-0"), Version("5 5 0")))
    vuln = factories.camera_vulnerability(
        product_status=ProductStatus(known_affected=(cam.version_id(cam.versions[0]),)), remediations=()
    )
    with pytest.raises(ValueError, match="two products"):
        render_csaf(factories.advisory(products=(cam,), vulnerabilities=(vuln,)))


def test_dumps_is_deterministic_sorted_and_utf8() -> None:
    advisory = factories.advisory()
    text = dumps_csaf(render_csaf_translation(advisory) or {})
    assert text == dumps_csaf(render_csaf_translation(factories.advisory()) or {})
    assert text.endswith("}\n") and "摄像机" in text and "\\u" not in text
    assert json.loads(text) == render_csaf_translation(advisory)
    keys = list(json.loads(text)["document"])
    assert keys == sorted(keys)
    assert run_csaf_test(json.loads(text), "6.2.13") == []


@pytest.mark.parametrize(
    ("tracking_id", "filename"),
    [
        ("VT-SA-2026-004", "vt-sa-2026-004.json"),
        ("OASIS: #/CSAF_TC-CSAF_2.0-2021-5-1-13", "oasis_csaf_tc-csaf_2_0-2021-5-1-13.json"),
        ("BECA+SA 2026/001", "beca+sa_2026_001.json"),
        ("中文-01", "_-01.json"),
    ],
)
def test_csaf_filename(tracking_id: str, filename: str) -> None:
    assert csaf_filename(tracking_id) == filename


def test_document_url_uses_the_initial_release_year() -> None:
    assert (
        csaf_document_url("https://x.example/.well-known/csaf/", "VT-SA-2026-004", at(2025, 12, 31))
        == "https://x.example/.well-known/csaf/white/2025/vt-sa-2026-004.json"
    )


_any_text = st.text(min_size=1, max_size=60).filter(lambda s: s.strip())


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(title=_any_text, zh=st.text(max_size=40), description=_any_text, summary=st.text(max_size=60))
def test_any_text_gives_a_valid_document(title: str, zh: str, description: str, summary: str) -> None:
    vuln = factories.camera_vulnerability(title=Text(title, zh), description=Text(description, zh))
    advisory = factories.advisory(title=Text(title, zh), summary=Text(summary, zh), vulnerabilities=(vuln,))
    for doc in (render_csaf(advisory), render_csaf_translation(advisory)):
        if doc is not None:
            assert validate_csaf(doc) == []
            assert json.loads(dumps_csaf(doc)) == doc


# --- dumps_csaf: the standard library's text, faster ------------------------------------------------------------------


def _stdlib(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, indent=2, allow_nan=False) + "\n"


def test_dumps_csaf_is_the_standard_librarys_text_for_every_conformance_document() -> None:
    paths = sorted(CSAF_20.rglob("*.json"))
    assert len(paths) > 200
    for path in paths:
        value = json.loads(path.read_bytes())
        assert dumps_csaf(value) == _stdlib(value), path


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(value=_json)
def test_dumps_csaf_is_the_standard_librarys_text_for_any_json(value: object) -> None:
    assert dumps_csaf(value) == _stdlib(value)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "value",
    [
        {"x": (1, "二", [])},  # a tuple is a list
        {"s": '\u2028 \x00 \x1f " \\ \ud800 é 中'},  # escapes, a lone surrogate, UTF-8 text as it is
        {"f": [0.1, -0.0, 1e16, 5e-324, 1.7976931348623157e308], "i": 10**30, "b": [True, False, None]},
        {"nested": {"empty": {}, "list": [{}, [[]]]}},
        {1: "keys that are numbers", 2.5: "become strings"},
        {2: "an integer key", "1": "a string key"},
    ],
)
def test_dumps_csaf_edge_values(value: dict[object, object]) -> None:
    if len({type(key) for key in value}) > 1 and str in {type(key) for key in value}:
        with pytest.raises(TypeError):  # the standard library cannot sort mixed keys either
            _stdlib(value)
        with pytest.raises(TypeError):
            dumps_csaf(value)  # type: ignore[arg-type]
    else:
        assert dumps_csaf(value) == _stdlib(value)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), object()])
def test_dumps_csaf_refuses_what_json_dumps_refuses_with_its_error(bad: object) -> None:
    with pytest.raises((ValueError, TypeError)) as ours:
        dumps_csaf({"a": [bad]})
    with pytest.raises((ValueError, TypeError)) as theirs:
        _stdlib({"a": [bad]})
    assert (type(ours.value), str(ours.value)) == (type(theirs.value), str(theirs.value))


def test_dumps_csaf_refuses_a_cycle_like_json_dumps() -> None:
    loop: dict[str, object] = {}
    loop["self"] = loop
    with pytest.raises(ValueError, match="Circular reference"):
        dumps_csaf(loop)

"""The data files: the platform's fields per stage and track follow the regulatory facts' table, and the 27
Member States with their coordinator CSIRTs; the catalog and profile settings that feed them refuse bad input."""

from __future__ import annotations

import pytest

from psirt.catalog.forms import ProductLineForm
from psirt.regulatory.clocks import Stage, Track
from psirt.regulatory.data import fields_for, member_state, member_states, required_keys, srp_document

EU = {"AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT", "LV", "LT", "LU",
      "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE"}  # fmt: skip


def test_the_27_member_states_each_with_a_csirt() -> None:
    states = member_states()
    assert {s.code for s in states} == EU
    assert len(states) == 27
    assert all(s.csirt and s.name_en and s.name_zh for s in states)
    assert member_state("de") is not None and member_state("DE").csirt == "BSI (CERT-Bund)"  # type: ignore[union-attr]
    assert member_state("CH") is None and member_state("") is None


def test_the_file_is_versioned_and_every_field_is_well_formed() -> None:
    doc = srp_document()
    assert doc["version"]
    keys = [(f["key"], tuple(f["tracks"])) for f in doc["fields"]]
    assert len(keys) == len(set(keys))


# The required fields per stage, as the regulatory facts' table states them (R, and C after an R).
EXPECTED: dict[tuple[str, str], set[str]] = {
    (Track.VULNERABILITY, Stage.EARLY_WARNING): {
        "notification_type", "title", "summary", "manufacturer", "member_states", "product_name",
        "product_versions", "aware_at",
    },
    (Track.VULNERABILITY, Stage.NOTIFICATION): {
        "notification_type", "title", "summary", "manufacturer", "member_states", "product_name",
        "product_versions", "aware_at", "general_information", "vulnerability_nature", "exploit_nature",
    },
    (Track.VULNERABILITY, Stage.FINAL): {
        "notification_type", "title", "summary", "manufacturer", "member_states", "product_name",
        "product_versions", "aware_at", "general_information", "vulnerability_nature", "exploit_nature",
        "measures_taken", "measures_users", "measure_available_at", "update_details", "full_description",
        "severity", "impact",
    },
    (Track.INCIDENT, Stage.EARLY_WARNING): {
        "notification_type", "title", "summary", "manufacturer", "member_states", "product_name",
        "product_versions", "aware_at", "malicious_suspected",
    },
    (Track.INCIDENT, Stage.NOTIFICATION): {
        "notification_type", "title", "summary", "manufacturer", "member_states", "product_name",
        "product_versions", "aware_at", "malicious_suspected", "incident_nature",
    },
    (Track.INCIDENT, Stage.FINAL): {
        "notification_type", "title", "summary", "manufacturer", "member_states", "product_name",
        "product_versions", "aware_at", "malicious_suspected", "incident_nature", "measures_taken",
        "measures_users", "mitigations_applied", "incident_description", "incident_severity", "incident_impact",
        "threat_type",
    },
}  # fmt: skip


@pytest.mark.parametrize(("track", "stage"), list(EXPECTED))
def test_required_fields_per_stage_and_track(track: str, stage: str) -> None:
    assert set(required_keys(track, stage)) == EXPECTED[(track, stage)]


def test_fields_not_asked_are_left_out_and_the_order_is_the_platforms() -> None:
    early = [f.key for f in fields_for(Track.VULNERABILITY, Stage.EARLY_WARNING)]
    assert "attack_vector" not in early and "full_description" not in early
    assert early[:3] == ["notification_type", "title", "summary"]
    notification = [f.key for f in fields_for(Track.VULNERABILITY, Stage.NOTIFICATION)]
    assert "exceptional_circumstances" in notification
    assert "exceptional_circumstances" not in [f.key for f in fields_for(Track.VULNERABILITY, Stage.FINAL)]
    assert "malicious_suspected" not in notification
    assert "cve_id" not in [f.key for f in fields_for(Track.INCIDENT, Stage.NOTIFICATION)]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("typed", "ok", "stored"),
    [
        ("de, fr;nl", True, "DE,FR,NL"),
        ("DE,DE", True, "DE"),
        ("", True, ""),
        ("Germany", False, None),
        ("DE,<script>", False, None),
        ("D E", False, None),
        ("DE," * 100, False, None),
    ],
)
def test_product_line_member_states_are_codes(typed: str, ok: bool, stored: str | None) -> None:
    form = ProductLineForm(data={"name_en": "Cameras", "slug": "cams", "position": "1", "eu_member_states": typed})
    assert form.is_valid() == ok, form.errors
    if ok:
        assert form.cleaned_data["eu_member_states"] == stored

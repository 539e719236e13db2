"""Advisory facts come from their cases, or differ on purpose: derivation and combination, overrides with a
reason, drift after a case change, "revise to match", and the publication gate that refuses unresolved drift."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from conftest import client_for
from psirt.accounts.models import User
from psirt.accounts.services import create_token
from psirt.advisories import services
from psirt.advisories.csaf.importer import import_csaf
from psirt.advisories.exceptions import ExploitationUnderstated, FactsDiffer, InvalidInput, NotAllowed
from psirt.advisories.models import Advisory, AdvisoryState, FactOverride
from psirt.advisories.services import facts as facts_module
from psirt.advisories.services.case_facts import (
    CaseFacts,
    DerivedFacts,
    Difference,
    combine,
    derived_facts,
    differences,
    exploitation_understated,
    locked_facts,
    merge_ranges,
)
from psirt.advisories.tests.conftest import approve, make_case, publish
from psirt.advisories.tests.test_import import BSI, load
from psirt.audit.models import AuditEvent
from psirt.cases.models import Case, CaseReference
from psirt.cases.services import cases as case_services
from psirt.cases.services.remediation import set_affected_range
from psirt.catalog.models import FirmwareRelease, Product

V31_CRITICAL = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"  # 9.8
V31_MEDIUM = "CVSS:3.1/AV:N/AC:L/PR:L/UI:R/S:U/C:L/I:L/A:N"  # 4.6
V40_HIGH = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:N/VA:N/SC:N/SI:N/SA:N"  # 8.7


def _facts(advisory: Advisory) -> set[str]:
    return {d.fact for d in differences(advisory)}


def _ago(days: int) -> dt.datetime:
    return timezone.now() - dt.timedelta(days=days)


# --- derivation and combination ------------------------------------------------------------------------------


def test_one_case_gives_every_fact(product: Product, lead: User, releases: dict[str, FirmwareRelease]) -> None:
    case = make_case(product=product, cwe_id=787)
    case_services.set_exploitation(case=case, status="active", aware_at=_ago(3), actor=lead)
    case_services.add_reference(case=case, value="CVE-2026-7001", actor=lead)
    case_services.add_reference(case=case, value="https://cert.example/notes/7", actor=lead)
    set_affected_range(case=case, product=product, actor=lead, introduced=releases["V5.5.0"], fixed=releases["V5.6.0"])
    case.refresh_from_db()
    advisory = services.create_advisory(cases=[case], actor=lead)
    assert advisory.exploitation == "active"
    assert advisory.exploitation_aware_at == case.exploitation_aware_at
    # Recording active exploitation set the vector's Exploit Maturity (E:H) on the case; the advisory took it.
    assert (advisory.cvss31_vector, advisory.severity, advisory.cwe_id) == (V31_CRITICAL + "/E:H", "Critical", 787)
    assert advisory.cvss31_vector == case.cvss31_vector
    assert advisory.identifier_list == ["CVE-2026-7001"]
    assert advisory.reference_list == ["https://cert.example/notes/7"]
    row = advisory.affected.get()
    assert (row.product, row.introduced, row.fixed) == (product, releases["V5.5.0"], releases["V5.6.0"])
    assert differences(advisory) == []


def test_several_cases_combine_by_the_written_rules(
    product: Product, lead: User, releases: dict[str, FirmwareRelease]
) -> None:
    first = make_case(product=product, cvss31_vector=V31_MEDIUM, cwe_id=79)
    second = make_case(product=product, cvss31_vector="", cvss40_vector=V40_HIGH)
    third = make_case(product=product, cvss31_vector=V31_MEDIUM)
    case_services.set_exploitation(case=first, status="poc", aware_at=_ago(9), actor=lead)
    case_services.set_exploitation(case=second, status="active", aware_at=_ago(5), actor=lead)
    case_services.set_exploitation(case=third, status="active", aware_at=_ago(7), actor=lead)
    CaseReference.objects.create(case=first, kind="cve", value="CVE-2026-7101")
    CaseReference.objects.create(case=second, kind="cnvd", value="CNVD-2026-7102")
    CaseReference.objects.create(case=third, kind="cve", value="CVE-2026-7103")
    CaseReference.objects.create(case=third, kind="euvd", value="EUVD-2026-17103")
    set_affected_range(case=first, product=product, actor=lead, introduced=releases["V5.5.2"], fixed=releases["V5.6.0"])
    set_affected_range(
        case=second, product=product, actor=lead, introduced=releases["V5.5.0"], fixed=releases["V5.10.0"]
    )
    advisory = services.create_advisory(cases=[first, second, third], actor=lead)
    derived = derived_facts(advisory)
    # The most severe exploitation; awareness: the earliest among the cases stating it (third, 7 days ago).
    assert derived.exploitation == "active"
    third.refresh_from_db()
    assert derived.exploitation_aware_at == third.exploitation_aware_at
    # The vectors of the case with the highest decisive rating (second: v4.0 8.7 over v3.1 4.6 twice) ...
    # (its recorded exploitation set the vector's Exploit Maturity, E:A, on the case).
    assert (derived.cvss31_vector, derived.cvss40_vector) == ("", V40_HIGH + "/E:A")
    # ... and, since that case has no CWE, the first CWE of the others.
    assert derived.cwe_id == 79
    assert derived.identifiers == ("CVE-2026-7101", "CNVD-2026-7102", "CVE-2026-7103", "EUVD-2026-17103")
    # Affected: one range per product, the earliest first affected release and the latest fix.
    assert derived.affected == ((product.pk, "", releases["V5.5.0"].pk, releases["V5.10.0"].pk),)
    assert (advisory.severity, advisory.exploitation, advisory.cvss40_vector) == ("High", "active", V40_HIGH + "/E:A")
    assert differences(advisory) == []


def test_a_range_without_fix_leaves_the_merged_range_unfixed(
    product: Product, lead: User, releases: dict[str, FirmwareRelease]
) -> None:
    fixed = make_case(product=product)
    open_case = make_case(product=product)
    set_affected_range(case=fixed, product=product, actor=lead, introduced=releases["V5.5.0"], fixed=releases["V5.6.0"])
    set_affected_range(case=open_case, product=product, actor=lead)
    advisory = services.create_advisory(cases=[fixed, open_case], actor=lead)
    row = advisory.affected.get()
    assert (row.introduced, row.fixed) == (None, None)


def test_without_ranges_or_urls_the_cases_say_nothing_about_them(draft: Advisory, lead: User) -> None:
    """The draft's own table and references stand when no case records any (not a difference)."""
    services.update_advisory(advisory=draft, actor=lead, changes={"reference_urls": "https://vendor.example/kb/1"})
    assert derived_facts(draft).affected is None and derived_facts(draft).reference_urls is None
    assert differences(draft) == []


# --- drift and revise to match ---------------------------------------------------------------------------------


@pytest.fixture
def ranged(product: Product, lead: User, handler: User, releases: dict[str, FirmwareRelease]) -> Advisory:
    case = make_case(product=product, disclosure_date=timezone.localdate() - dt.timedelta(days=1), assignee=handler)
    set_affected_range(case=case, product=product, actor=lead, introduced=releases["V5.5.0"], fixed=releases["V5.6.0"])
    advisory = services.create_advisory(cases=[case], actor=lead)
    return services.update_advisory(advisory=advisory, actor=lead, changes={"summary_en": "Runs code as root."})


def _case(advisory: Advisory) -> Case:
    return advisory.case_links.get().case


@pytest.mark.parametrize("change", ["exploitation", "vector", "cve", "range"])
def test_a_case_change_is_drift_that_refuses_publication_until_revised(
    ranged: Advisory, lead: User, releases: dict[str, FirmwareRelease], change: str
) -> None:
    case = _case(ranged)
    expected = {
        # Recording the exploitation also sets the vector's Exploit Maturity on the case.
        "exploitation": {"exploitation", "exploitation_aware_at", "cvss31_vector"},
        "vector": {"cvss31_vector"},
        "cve": {"identifiers"},
        "range": {"affected"},
    }[change]
    if change == "exploitation":
        case_services.set_exploitation(case=case, status="poc", aware_at=_ago(1), actor=lead)
    elif change == "vector":
        case_services.set_cvss(case=case, vector=V31_MEDIUM, actor=lead)
    elif change == "cve":
        case_services.add_reference(case=case, value="CVE-2026-7301", actor=lead)
    else:
        set_affected_range(
            case=case,
            product=releases["V5.5.0"].product,
            actor=lead,
            introduced=releases["V5.5.0"],
            fixed=releases["V5.10.0"],
        )
    approved = approve(ranged, lead)
    assert _facts(approved) == expected
    if change == "exploitation":
        # Stating less exploitation than the case knows is refused first, whatever else differs.
        with pytest.raises(ExploitationUnderstated, match="Proof of concept"):
            services.publish_advisory(advisory=approved, actor=lead)
    else:
        with pytest.raises(FactsDiffer) as refused:
            services.publish_advisory(advisory=approved, actor=lead)
        labels = {d.label for d in differences(approved)}
        assert all(label in refused.value.message for label in labels)
    assert Advisory.objects.get(pk=ranged.pk).state == AdvisoryState.APPROVED
    revised = services.revise_to_match(advisory=approved, actor=lead)
    assert differences(revised) == []
    assert AuditEvent.objects.filter(action="advisory.revised_to_match").exists()
    # Revising changed an approved advisory: it goes back through review, then publishes.
    assert revised.state == AdvisoryState.DRAFT
    assert publish(revised, lead).state == AdvisoryState.PUBLISHED


def test_revise_to_match_on_a_published_advisory_names_the_facts_in_both_languages(
    ranged: Advisory, lead: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    advisory = publish(ranged, lead)
    case = _case(advisory)
    case_services.set_exploitation(case=case, status="active", aware_at=_ago(1), actor=lead)
    calls: list[dict[str, Any]] = []
    real = facts_module.update_advisory

    def spy(**kwargs: Any) -> Advisory:
        calls.append(kwargs)
        return real(**kwargs)

    monkeypatch.setattr(facts_module, "update_advisory", spy)
    services.revise_to_match(advisory=advisory, actor=lead)
    (call,) = calls
    assert call["changes"]["exploitation"] == "active"
    assert "Exploitation" in call["revision_summary_en"]
    assert "利用情况" in call["revision_summary_zh"]


def test_publishing_checks_the_cases_now_not_when_the_draft_was_made(published: Advisory, lead: User) -> None:
    """A published advisory whose case later learns of active exploitation shows the drift on the desk."""
    case = _case(published)
    case_services.set_exploitation(case=case, status="active", aware_at=_ago(1), actor=lead)
    assert "exploitation" in _facts(published)
    with pytest.raises(ExploitationUnderstated):
        services.check_publication(advisory=published)


# --- overrides -------------------------------------------------------------------------------------------------


def test_an_override_needs_a_reason_is_audited_and_stops_the_drift_report(ranged: Advisory, lead: User) -> None:
    case_services.set_cvss(case=_case(ranged), vector=V31_MEDIUM, actor=lead)
    assert _facts(ranged) == {"cvss31_vector"}
    for bad in ("", "   ", "x" * 2001):
        with pytest.raises(InvalidInput):
            services.override_fact(advisory=ranged, fact="cvss31_vector", reason=bad, actor=lead)
    for unknown in ("title_en", "severity", "", "<script>", "x" * 500):
        with pytest.raises(InvalidInput):
            services.override_fact(advisory=ranged, fact=unknown, reason="Because.", actor=lead)
    assert not FactOverride.objects.exists()
    services.override_fact(advisory=ranged, fact="cvss31_vector", reason="Vendor rescored the AV.", actor=lead)
    event = AuditEvent.objects.get(action="advisory.fact_overridden")
    assert event.data["fact"] == "cvss31_vector"
    assert differences(ranged) == []
    services.check_facts(approve(ranged, lead))
    # Removing the override returns to the cases' value.
    advisory = services.remove_override(advisory=ranged, fact="cvss31_vector", actor=lead)
    assert advisory.cvss31_vector == V31_MEDIUM and advisory.severity == "Medium"
    assert differences(advisory) == []
    assert AuditEvent.objects.filter(action="advisory.fact_override_removed").exists()
    with pytest.raises(InvalidInput):
        services.remove_override(advisory=advisory, fact="cvss31_vector", actor=lead)


def test_only_editors_of_the_advisory_may_override(ranged: Advisory, other_handler: User, engineer: User) -> None:
    for user in (other_handler, engineer):
        with pytest.raises(NotAllowed):
            services.override_fact(advisory=ranged, fact="cwe_id", reason="Because.", actor=user)
        with pytest.raises(NotAllowed):
            services.revise_to_match(advisory=ranged, actor=user)
    assert not FactOverride.objects.exists()


def test_exploitation_is_never_published_below_the_cases_even_with_an_override(ranged: Advisory, lead: User) -> None:
    case = _case(ranged)
    case_services.set_exploitation(case=case, status="active", aware_at=_ago(2), actor=lead)
    services.revise_to_match(advisory=ranged, actor=lead)
    services.override_fact(advisory=ranged, fact="exploitation", reason="We think it is not.", actor=lead)
    advisory = services.update_advisory(advisory=ranged, actor=lead, changes={"exploitation": "none"})
    assert differences(advisory) == []  # overridden, so not a "difference" ...
    with pytest.raises(ExploitationUnderstated, match="never published lower"):
        services.publish_advisory(advisory=approve(advisory, lead), actor=lead)  # ... but never published
    assert Advisory.objects.get(pk=ranged.pk).state == AdvisoryState.APPROVED


def test_an_override_may_raise_exploitation(ranged: Advisory, lead: User) -> None:
    services.override_fact(advisory=ranged, fact="exploitation", reason="Exploit seen by a partner.", actor=lead)
    services.override_fact(advisory=ranged, fact="exploitation_aware_at", reason="Partner's report.", actor=lead)
    advisory = services.update_advisory(
        advisory=ranged, actor=lead, changes={"exploitation": "poc", "exploitation_aware_at": _ago(1).isoformat()}
    )
    assert publish(advisory, lead).state == AdvisoryState.PUBLISHED


def test_the_awareness_time_is_checked(ranged: Advisory, lead: User) -> None:
    for bad in ("yesterday", "2026-13-45 10:00", (timezone.now() + dt.timedelta(days=2)).isoformat()):
        with pytest.raises(InvalidInput):
            services.update_advisory(advisory=ranged, actor=lead, changes={"exploitation_aware_at": bad})


def test_the_csaf_threat_is_dated_with_the_awareness_time(ranged: Advisory, lead: User, client: Client) -> None:
    case_services.set_exploitation(case=_case(ranged), status="active", aware_at=_ago(4), actor=lead)
    advisory = publish(services.revise_to_match(advisory=ranged, actor=lead), lead)
    (doc, *_rest) = services.csaf_documents_for_publication(advisory)
    threat = doc["vulnerabilities"][0]["threats"][0]
    assert threat["category"] == "exploit_status" and "date" in threat
    assert threat["date"][:10] == timezone.localtime(advisory.exploitation_aware_at, dt.UTC).date().isoformat()
    body = client.get(f"/api/v1/advisories/{advisory.advisory_id}").json()
    assert body["exploitation"] == "active" and body["exploitation_aware_at"] is not None


# --- the desk --------------------------------------------------------------------------------------------------


def test_the_desk_shows_the_drift_and_revises_to_match(ranged: Advisory, lead: User, as_handler: Client) -> None:
    case_services.add_reference(case=_case(ranged), value="CVE-2026-7401", actor=lead)
    detail = reverse("desk:advisories:detail", args=[ranged.public_id])
    html = as_handler.get(detail).content.decode()
    assert "The advisory differs from its cases" in html and "CVE-2026-7401" in html and "Revise to match" in html
    response = as_handler.post(reverse("desk:advisories:facts", args=[ranged.public_id]), {"op": "revise"})
    assert response.status_code == 302
    ranged.refresh_from_db()
    assert ranged.identifier_list == ["CVE-2026-7401"]
    assert "The advisory differs from its cases" not in as_handler.get(detail).content.decode()


def test_the_desk_records_an_override_and_shows_the_reason_escaped(
    ranged: Advisory, as_handler: Client, as_lead: Client
) -> None:
    url = reverse("desk:advisories:facts", args=[ranged.public_id])
    hostile = "<script>alert(1)</script> rescored"
    assert as_handler.post(url, {"op": "override", "fact": "cwe_id", "reason": hostile}).status_code == 302
    assert FactOverride.objects.get().reason == hostile
    html = as_lead.get(reverse("desk:advisories:detail", args=[ranged.public_id])).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt; rescored" in html and hostile not in html
    # The editor now lets the CWE be edited; the other facts stay read-only.
    edit = as_handler.get(reverse("desk:advisories:edit", args=[ranged.public_id])).content.decode()
    assert 'name="cwe_id"' in edit and 'name="cvss31_vector"' in edit
    assert "disabled" in edit.split('name="cvss31_vector"')[1].split(">")[0]
    assert "disabled" not in edit.split('name="cwe_id"')[1].split(">")[0]
    # Refusals come back as messages; nothing is recorded.
    response = as_handler.post(url, {"op": "override", "fact": "nonsense", "reason": "x"}, follow=True)
    assert "There is no fact" in response.content.decode()
    assert as_handler.post(url, {"op": "bogus"}).status_code == 404
    assert FactOverride.objects.count() == 1


@pytest.mark.parametrize("persona", ["other_handler", "engineer"])
def test_the_desk_facts_actions_are_404_without_need_to_know(
    ranged: Advisory, persona: str, request: pytest.FixtureRequest
) -> None:
    client = client_for(request.getfixturevalue(persona))
    url = reverse("desk:advisories:facts", args=[ranged.public_id])
    for data in ({"op": "override", "fact": "cwe_id", "reason": "x"}, {"op": "revise"}):
        response = client.post(url, data)
        assert response.status_code == 404
        assert ranged.advisory_id not in response.content.decode()
    assert not FactOverride.objects.exists()


# --- the case API ----------------------------------------------------------------------------------------------


def test_the_case_api_lists_the_advisories_of_the_case(
    ranged: Advisory, handler: User, other_handler: User, client: Client
) -> None:
    case = _case(ranged)

    def get(user: User) -> Any:
        _row, token = create_token(user=user, name="t", scopes=("cases:read",))
        return client.get(f"/api/v1/cases/{case.public_id}", headers={"Authorization": f"Bearer {token}"})

    body = get(handler).json()
    assert body["advisories"] == [ranged.advisory_id]
    assert get(other_handler).status_code == 404


@pytest.mark.django_db
def test_an_imported_advisory_without_cases_has_nothing_to_derive_from() -> None:
    import_csaf(document=load(BSI), source="bsi")
    advisory = Advisory.objects.get(advisory_id="BSI-2022-0001")
    assert advisory.cvss31_vector and advisory.cwe_id == 611
    assert differences(advisory) == [] and locked_facts(advisory) == set()
    services.check_facts(advisory)


# --- the combination rules, one at a time (`combine`, `merge_ranges`, `exploitation_understated`) ---------------


def _case_facts(key: str = "CASE-1", **fields: Any) -> CaseFacts:
    values: dict[str, Any] = {
        "title": "t",
        "state": "confirmed",
        "product_id": None,
        "has_fix": False,
        "has_sufficient_mitigation": False,
        "actively_exploited": False,
        "public_concern": False,
        "agreed_disclosure_date": None,
    }
    return CaseFacts(key=key, **(values | fields))


def test_no_cases_state_no_facts() -> None:
    assert combine([]) == DerivedFacts()


@pytest.mark.parametrize(
    ("statuses", "combined"),
    [
        (["none", "active"], "active"),
        (["active", "poc"], "active"),
        (["none", "poc", "none"], "poc"),
        (["none"], "none"),
    ],
)
def test_the_most_severe_exploitation_wins_whatever_the_case_order(statuses: list[str], combined: str) -> None:
    assert combine([_case_facts(exploitation=s) for s in statuses]).exploitation == combined


def test_the_awareness_time_comes_only_from_the_cases_stating_the_combined_status() -> None:
    poc_earlier, active_later, active_latest = _ago(9), _ago(5), _ago(2)
    derived = combine(
        [
            _case_facts(exploitation="poc", exploitation_aware_at=poc_earlier),
            _case_facts(exploitation="active", exploitation_aware_at=active_latest),
            _case_facts(exploitation="active", exploitation_aware_at=active_later),
            _case_facts(exploitation="active"),  # a case without an awareness time adds none
        ]
    )
    assert (derived.exploitation, derived.exploitation_aware_at) == ("active", active_later)


def test_nothing_known_exploited_has_no_awareness_time() -> None:
    assert combine([_case_facts(exploitation="none", exploitation_aware_at=_ago(3))]).exploitation_aware_at is None
    assert combine([_case_facts(exploitation="poc")]).exploitation_aware_at is None


def test_the_vectors_come_from_the_case_with_the_highest_decisive_rating_the_first_on_a_tie() -> None:
    low, high = _case_facts(cvss31_vector=V31_MEDIUM, cwe_id=79), _case_facts(cvss40_vector=V40_HIGH, cwe_id=787)
    assert (combine([low, high]).cvss40_vector, combine([low, high]).cwe_id) == (V40_HIGH, 787)
    assert (combine([high, low]).cvss40_vector, combine([high, low]).cwe_id) == (V40_HIGH, 787)
    # v4.0 8.7 (base + threat) beats v3.1 9.8 of another case: each case's decisive rating is compared.
    assert combine([_case_facts(cvss31_vector=V31_CRITICAL), high]).cvss31_vector == V31_CRITICAL
    tie = [_case_facts(cvss31_vector=V31_MEDIUM, cwe_id=79), _case_facts(cvss31_vector=V31_MEDIUM, cwe_id=89)]
    assert combine(tie).cwe_id == 79


def test_a_zero_score_vector_is_decisive_over_none_and_no_vector_falls_back_to_the_first_case() -> None:
    zero = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N"  # 0.0, rating None
    derived = combine([_case_facts(cwe_id=20), _case_facts(cvss31_vector=zero, cwe_id=79)])
    assert (derived.cvss31_vector, derived.cwe_id) == (zero, 79)
    unscored = combine([_case_facts(cvss31_vector="garbage", cwe_id=20), _case_facts(cwe_id=79)])
    assert (unscored.cvss31_vector, unscored.cwe_id) == ("garbage", 20)


def test_without_a_cwe_on_the_decisive_case_the_first_cwe_of_the_others_is_taken() -> None:
    cases = [_case_facts(cwe_id=None), _case_facts(cwe_id=89), _case_facts(cvss31_vector=V31_CRITICAL), _case_facts()]
    assert combine(cases).cwe_id == 89
    assert combine([_case_facts(), _case_facts()]).cwe_id is None


def test_identifiers_references_and_products_are_every_cases_in_case_order_each_once() -> None:
    derived = combine(
        [
            _case_facts(identifiers=("cve-2026-0002",), reference_urls=("https://b.example/",), product_id=2),
            _case_facts(product_id=None),
            _case_facts(
                identifiers=("CVE-2026-0001", "CVE-2026-0002"),
                reference_urls=("https://a.example/", "https://b.example/"),
                product_id=1,
            ),
            _case_facts(product_id=2),
        ]
    )
    assert derived.identifiers == ("CVE-2026-0002", "CVE-2026-0001")
    assert derived.reference_urls == ("https://b.example/", "https://a.example/")
    assert derived.products == (2, 1)
    assert (derived.affected, combine([_case_facts()]).reference_urls) == (None, None)


@pytest.mark.django_db
def test_merged_ranges_follow_the_catalog_order_per_product_and_variant(
    product: Product, releases: dict[str, FirmwareRelease]
) -> None:
    # Created last but placed first in the catalog: the order is the release position, not the id.
    oldest = FirmwareRelease.objects.create(product=product, version="V5.0.0", position=1)
    r = {v: rel.pk for v, rel in releases.items()}
    merged = merge_ranges(
        [
            (product.pk, "", r["V5.5.2"], r["V5.6.0"]),
            (product.pk, "EU", r["V5.5.0"], None),
            (product.pk, "", oldest.pk, r["V5.10.0"]),
            (product.pk, "", r["V5.5.0"], r["V5.5.2"]),
            (product.pk, "EU", None, r["V5.6.0"]),
        ]
    )
    assert merged == ((product.pk, "", oldest.pk, r["V5.10.0"]), (product.pk, "EU", None, None))
    assert merge_ranges([(product.pk, "", r["V5.10.0"], None), (product.pk, "", oldest.pk, None)]) == (
        (product.pk, "", oldest.pk, None),
    )
    # The latest fix is the one placed last in the catalog, not the one created last.
    assert merge_ranges([(product.pk, "", None, r["V5.10.0"]), (product.pk, "", None, oldest.pk)]) == (
        (product.pk, "", None, r["V5.10.0"]),
    )


@pytest.mark.parametrize(
    ("stated", "cases", "understated"),
    [
        ("none", "poc", "poc"),
        ("poc", "active", "active"),
        ("none", "active", "active"),
        ("poc", "poc", None),  # the same status is not understated
        ("active", "poc", None),  # stating more than the cases is allowed
        ("active", "none", None),
        ("none", "none", None),
    ],
)
def test_exploitation_understated_names_the_cases_status_only_when_the_advisory_states_less(
    stated: str, cases: str, understated: str | None
) -> None:
    assert exploitation_understated(Advisory(exploitation=stated), DerivedFacts(exploitation=cases)) == understated


# --- which stored facts differ from the cases (`differences`) -----------------------------------------------------

_DRIFT: dict[str, dict[str, Any]] = {
    "exploitation": {"exploitation": "poc"},
    "exploitation_aware_at": {"exploitation_aware_at": dt.datetime(2026, 1, 2, 3, 4, tzinfo=dt.UTC)},
    "cvss31_vector": {"cvss31_vector": V31_MEDIUM},
    "cvss40_vector": {"cvss40_vector": V40_HIGH},
    "cwe_id": {"cwe_id": 89},
    "identifiers": {"identifiers": ("CVE-2026-0001",)},
    "reference_urls": {"reference_urls": ("https://cert.example/notes/1",)},
    "affected": {"affected": ()},
}


@pytest.mark.parametrize("fact", list(_DRIFT))
def test_each_fact_the_cases_state_otherwise_is_a_difference_of_its_own(ranged: Advisory, fact: str) -> None:
    want = derived_facts(ranged)
    assert differences(ranged, want) == []
    assert [d.fact for d in differences(ranged, dataclasses.replace(want, **_DRIFT[fact]))] == [fact]
    FactOverride.objects.create(advisory=ranged, fact=fact, reason="On purpose.")
    assert differences(ranged, dataclasses.replace(want, **_DRIFT[fact])) == []


def test_identifiers_and_ranges_compare_as_sets_and_references_may_cite_more(ranged: Advisory, lead: User) -> None:
    want = derived_facts(ranged)
    (row,) = want.affected or ()
    extra = (row[0], "EU", None, None)
    services.update_advisory(
        advisory=ranged,
        actor=lead,
        changes={
            "identifiers": "cnvd-2026-00002\nCVE-2026-0001",
            "reference_urls": "https://vendor.example/kb/1\nhttps://cert.example/notes/1",
        },
    )
    ranged.refresh_from_db()
    same = dataclasses.replace(
        want,
        identifiers=("CVE-2026-0001", "CNVD-2026-00002"),
        reference_urls=("https://cert.example/notes/1",),
        affected=(extra, row),
    )
    assert differences(ranged, same, stored_ranges=[row, extra]) == []
    # The stored table stands in for `stored_ranges` when none is given; a missing range or address differs.
    assert [d.fact for d in differences(ranged, same)] == ["affected"]
    assert [d.fact for d in differences(ranged, same, stored_ranges=[row])] == ["affected"]
    more = dataclasses.replace(same, reference_urls=("https://cert.example/notes/1", "https://cert.example/2"))
    assert [d.fact for d in differences(ranged, more, stored_ranges=[row, extra])] == ["reference_urls"]
    # Cases that record no references or ranges say nothing about them.
    silent = dataclasses.replace(same, reference_urls=None, affected=None)
    assert differences(ranged, silent, stored_ranges=[]) == []


def test_a_withdrawn_or_unsaved_advisory_has_no_differences(ranged: Advisory) -> None:
    drift = dataclasses.replace(derived_facts(ranged), cwe_id=89)
    assert [d.fact for d in differences(ranged, drift)] == ["cwe_id"]
    assert differences(Advisory(), drift) == []
    Advisory.objects.filter(pk=ranged.pk).update(state=AdvisoryState.WITHDRAWN)
    ranged.refresh_from_db()
    assert differences(ranged, drift) == []


@pytest.mark.parametrize(("stated", "cases", "understated"), [("", "poc", "poc"), ("none", "", None), ("", "", None)])
def test_an_empty_or_unknown_exploitation_ranks_as_none_known(stated: str, cases: str, understated: str | None) -> None:
    assert exploitation_understated(Advisory(exploitation=stated), DerivedFacts(exploitation=cases)) == understated


def test_exploitation_understated_reads_the_cases_when_not_given_their_facts(ranged: Advisory, lead: User) -> None:
    assert exploitation_understated(ranged) is None
    case_services.set_exploitation(case=_case(ranged), status="active", aware_at=_ago(1), actor=lead)
    assert exploitation_understated(ranged) == "active"


def test_a_difference_shows_the_label_and_both_values_as_the_desk_shows_them(ranged: Advisory) -> None:
    aware = timezone.make_aware(dt.datetime(2026, 1, 2, 3, 4))
    drift = dataclasses.replace(derived_facts(ranged), exploitation="poc", exploitation_aware_at=aware)
    assert differences(ranged, drift) == [
        Difference("exploitation", "Exploitation", "None known", "Proof of concept"),
        Difference("exploitation_aware_at", "Team aware of exploitation", "—", "2026-01-02 03:04"),
    ]
    Advisory.objects.filter(pk=ranged.pk).update(exploitation_aware_at=timezone.make_aware(dt.datetime(2026, 1, 1)))
    ranged.refresh_from_db()
    assert differences(ranged, drift)[1].advisory_value == "2026-01-01 00:00"

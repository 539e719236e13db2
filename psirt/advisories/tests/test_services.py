"""Authoring services: IDs, prefill from cases, validation, revisions, withdrawal."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection
from django.utils import timezone

from psirt.accounts.models import User
from psirt.advisories import services
from psirt.advisories.exceptions import InvalidInput, NotAllowed, TransitionNotAllowed
from psirt.advisories.models import Advisory, AdvisoryState
from psirt.advisories.tests.conftest import make_case, revise
from psirt.cases.models import CaseReference
from psirt.catalog.models import FirmwareRelease, Product
from psirt.organization.models import OrganizationProfile


def test_ids_follow_prefix_year_and_sequence(product: Product, lead: User) -> None:
    profile = OrganizationProfile.get()
    profile.advisory_prefix = "VT"
    profile.save()
    year = timezone.localdate().year
    first = services.create_advisory(cases=[make_case(product=product)], actor=lead)
    second = services.create_advisory(cases=[make_case(product=product)], actor=lead)
    assert first.advisory_id == f"VT-SA-{year}-001"
    assert second.advisory_id == f"VT-SA-{year}-002"


def test_advisory_takes_the_facts_of_its_cases(product: Product, handler: User) -> None:
    a = make_case(product=product, assignee=handler, cwe_id=79, exploitation="poc")
    b = make_case(
        product=product,
        assignee=handler,
        cvss31_vector="CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:L/I:N/A:N",
        cvss40_vector="CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
        exploitation="active",
    )
    CaseReference.objects.create(case=a, kind="cve", value="CVE-2026-12345")
    CaseReference.objects.create(case=b, kind="cnvd", value="CNVD-2026-01234")
    CaseReference.objects.create(case=b, kind="url", value="https://openssl.example/adv")
    advisory = services.create_advisory(cases=[a, b], actor=handler)
    assert advisory.title_en == a.title
    # The vectors are those of the case with the highest decisive rating: a (v3.1 9.8) over b (v4.0 9.3).
    assert advisory.cvss31_vector == "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
    assert advisory.cvss40_vector == ""
    assert advisory.severity == "Critical"
    assert advisory.exploitation == "active"
    assert advisory.cwe_id == 79
    assert advisory.cve_ids == ["CVE-2026-12345"]
    assert advisory.other_ids == ["CNVD-2026-01234"]
    assert advisory.reference_list == ["https://openssl.example/adv"]
    assert list(advisory.affected.values_list("product__slug", flat=True)) == ["cam-x5"]
    assert set(advisory.cases.all()) == {a, b}


def test_unconfirmed_case_and_foreign_case_are_refused(product: Product, handler: User, other_handler: User) -> None:
    new = make_case(product=product, state="triage", assignee=handler)
    with pytest.raises(InvalidInput, match="not confirmed"):
        services.create_advisory(cases=[new], actor=handler)
    theirs = make_case(product=product, assignee=other_handler)
    with pytest.raises(NotAllowed):
        services.create_advisory(cases=[theirs], actor=handler)
    with pytest.raises(InvalidInput):
        services.create_advisory(cases=[], actor=handler)


@pytest.mark.parametrize(
    "changes,message",
    [
        ({"cvss31_vector": "CVSS:3.1/AV:Q/AC:L"}, "AV"),
        ({"cvss31_vector": "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"}, "v3.1"),
        ({"identifiers": "CVE-2026-1 <script>"}, "CVE"),
        ({"reference_urls": "javascript:alert(1)"}, "http"),
        ({"cwe_id": "99999999"}, "CWE"),
        ({"title_en": "  "}, "required"),
        ({"title_en": "x" * 201}, "too long"),
        ({"exploitation": "maybe"}, "exploitation"),
        ({"state": "published"}, "cannot be changed"),
    ],
)
def test_bad_input_is_refused_with_a_message(draft: Advisory, lead: User, changes: dict, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        services.update_advisory(advisory=draft, actor=lead, changes=changes)


def test_affected_rows_must_use_releases_of_the_product_in_order(
    draft: Advisory, lead: User, product: Product, releases: dict[str, FirmwareRelease], line
) -> None:  # type: ignore[no-untyped-def]
    other = Product.objects.create(line=line, slug="nvr-8", name="NVR 8")
    foreign = FirmwareRelease.objects.create(product=other, version="1.0", position=1)
    with pytest.raises(InvalidInput, match="not a release"):
        services.update_advisory(
            advisory=draft, actor=lead, changes={}, affected=[services.AffectedInput(product=product, fixed=foreign)]
        )
    with pytest.raises(InvalidInput, match="newer"):
        services.update_advisory(
            advisory=draft,
            actor=lead,
            changes={},
            affected=[services.AffectedInput(product=product, introduced=releases["V5.6.0"], fixed=releases["V5.5.0"])],
        )


def test_published_changes_become_numbered_dated_revisions(published: Advisory, lead: User) -> None:
    with pytest.raises(InvalidInput, match="revision"):
        services.update_advisory(advisory=published, actor=lead, changes={"impact_en": "Worse."})
    revise(
        advisory=published,
        actor=lead,
        changes={"impact_en": "Worse than thought."},
        revision_summary_en="Impact clarified.",
        revision_summary_zh="更新影响说明。",
    )
    revise(
        advisory=published, actor=lead, changes={"identifiers": "CVE-2026-22222"}, revision_summary_en="CVE assigned."
    )
    revisions = list(published.revisions.order_by("number"))
    assert [(r.number, r.summary_en) for r in revisions] == [
        (1, "Initial publication."),
        (2, "Impact clarified."),
        (3, "CVE assigned."),
    ]
    assert revisions[0].date <= revisions[1].date <= revisions[2].date
    published.refresh_from_db()
    assert published.state == AdvisoryState.PUBLISHED
    assert published.revised_at == revisions[2].date


def test_withdrawal_needs_a_lead_and_a_reason(published: Advisory, lead: User, handler: User) -> None:
    with pytest.raises(NotAllowed):
        services.withdraw_advisory(advisory=published, actor=handler, reason="Wrong product")
    with pytest.raises(InvalidInput):
        services.withdraw_advisory(advisory=published, actor=lead, reason=" ")
    advisory = services.withdraw_advisory(advisory=published, actor=lead, reason="Not a vulnerability after all.")
    assert advisory.state == AdvisoryState.WITHDRAWN
    assert advisory.withdrawn_reason == "Not a vulnerability after all."
    assert advisory.revisions.order_by("-number").first().summary_en.startswith("Withdrawn:")  # type: ignore[union-attr]
    with pytest.raises(TransitionNotAllowed):
        services.update_advisory(advisory=advisory, actor=lead, changes={"title_en": "x"}, revision_summary_en="y")


def test_draft_cannot_be_withdrawn(draft: Advisory, lead: User) -> None:
    with pytest.raises(TransitionNotAllowed):
        services.withdraw_advisory(advisory=draft, actor=lead, reason="x")


@pytest.mark.django_db(transaction=True)
def test_concurrent_creation_never_shares_an_id(product: Product, lead: User, yesterday: dt.date) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL (SQLite serialises every writer)")
    cases = [make_case(product=product, disclosure_date=yesterday) for _ in range(8)]
    barrier = threading.Barrier(len(cases))
    errors: list[BaseException] = []

    def create(case) -> None:  # type: ignore[no-untyped-def]
        try:
            barrier.wait(timeout=10)
            services.create_advisory(cases=[case], actor=lead)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=create, args=(c,)) for c in cases]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not errors
    numbers = sorted(Advisory.objects.values_list("number", flat=True))
    assert numbers == list(range(1, len(cases) + 1))
    assert Advisory.objects.values("advisory_id").distinct().count() == len(cases)


def test_publication_and_chosen_revisions_notify_subscribers(draft: Advisory, lead: User, product: Product) -> None:
    from django.utils import timezone as tz

    from psirt.advisories.tests.conftest import publish
    from psirt.notify.models import Delivery, Subscription
    from psirt.notify.services import email_hash

    sub = Subscription.objects.create(
        email="owner@customer.test",
        email_hash=email_hash("owner@customer.test"),
        language="en",
        min_severity="None",
        confirmed_at=tz.now(),
    )
    sub.products.set([product])
    advisory = publish(draft, lead)
    assert list(Delivery.objects.values_list("reference", "revision")) == [(advisory.advisory_id, 1)]
    revise(advisory=advisory, actor=lead, changes={"impact_en": "x"}, revision_summary_en="Typo.")
    revise(advisory=advisory, actor=lead, changes={"impact_en": "y"}, revision_summary_en="Wider range.", notify=True)
    assert sorted(Delivery.objects.values_list("revision", flat=True)) == [1, 3]

"""Remediation: affected ranges from the catalog, mitigations and workarounds, work items with owners."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from conftest import _make_user, client_for
from psirt.accounts.models import Role, User
from psirt.advisories.services.case_facts import facts_for_case
from psirt.cases.exceptions import InvalidInput, NotAllowed
from psirt.cases.models import AffectedRange, Case, Mitigation, WorkItem
from psirt.cases.services import cases as case_services
from psirt.cases.services import remediation
from psirt.catalog.models import FirmwareRelease, Product

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(lead, handler, report) -> Case:
    return case_services.open_case(report=report, actor=lead, title="RCE in web UI", assignees=[handler])


@pytest.fixture
def releases(product: Product) -> dict[str, FirmwareRelease]:
    out = {}
    for pos, version in enumerate(["1.0", "1.1", "2.0"], start=1):
        out[version] = FirmwareRelease.objects.create(product=product, version=version, position=pos)
    out["eu-1.0"] = FirmwareRelease.objects.create(product=product, version="1.0", variant="EU", position=1)
    return out


@pytest.fixture
def invited(lead, case: Case) -> User:
    user = _make_user("invited@persona.test", Role.ENGINEER)
    case_services.invite_engineer(case=case, engineer=user, actor=lead)
    return user


def url(case: Case, action: str = "") -> str:
    return f"/en/desk/cases/{case.public_id}/{action + '/' if action else ''}"


def test_affected_range_from_the_catalog_and_fixed_releases_reach_the_advisory(
    as_handler: Client, case: Case, product: Product, releases
) -> None:
    data = {
        "range-product": product.slug,
        "range-variant": "",
        "range-introduced": str(releases["1.1"].public_id),
        "range-fixed": str(releases["2.0"].public_id),
    }
    assert as_handler.post(url(case, "affected"), data).status_code == 302
    row = AffectedRange.objects.get()
    assert (row.introduced, row.fixed) == (releases["1.1"], releases["2.0"])
    assert list(case.fixed_releases) == [releases["2.0"]]
    facts = facts_for_case(case)
    assert facts.has_fix and facts.fixed_release_ids == (releases["2.0"].pk,)
    html = as_handler.get(url(case)).content.decode()
    assert "Affected products and releases" in html and "Camera X5" in html
    # Saving the same product and variant again replaces the row (no fix yet now).
    data["range-fixed"] = ""
    as_handler.post(url(case, "affected"), data)
    assert AffectedRange.objects.get().fixed is None and not facts_for_case(case).has_fix
    assert as_handler.post(url(case, "affected/remove"), {"range": str(row.public_id)}).status_code == 302
    assert not AffectedRange.objects.exists()


def test_range_ends_must_be_of_that_product_and_variant_and_in_order(
    case: Case, handler, product: Product, releases, other_line
) -> None:
    with pytest.raises(InvalidInput, match="newer"):
        remediation.set_affected_range(
            case=case, product=product, introduced=releases["2.0"], fixed=releases["1.0"], actor=handler
        )
    with pytest.raises(InvalidInput, match="releases of Camera X5"):
        remediation.set_affected_range(case=case, product=product, fixed=releases["eu-1.0"], actor=handler)
    other = Product.objects.create(line=other_line, slug="r1", name="Router")
    with pytest.raises(InvalidInput):
        remediation.set_affected_range(case=case, product=other, fixed=releases["2.0"], actor=handler)
    row = remediation.set_affected_range(
        case=case, product=product, variant="EU", fixed=releases["eu-1.0"], actor=handler
    )
    assert row.variant == "EU"


def test_range_form_refuses_unknown_products_and_releases(as_handler: Client, case: Case) -> None:
    response = as_handler.post(url(case, "affected"), {"range-product": "../../etc", "range-fixed": "x"})
    assert response.status_code == 400
    assert as_handler.post(url(case, "affected/remove"), {"range": "not-a-uuid"}).status_code == 404


def test_mitigations_and_workarounds_in_both_languages(as_handler: Client, case: Case) -> None:
    data = {"mit-kind": "workaround", "mit-text_en": "Disable UPnP", "mit-text_zh": "关闭 UPnP", "mit-sufficient": "on"}
    assert as_handler.post(url(case, "mitigations"), data).status_code == 302
    item = Mitigation.objects.get()
    assert (item.kind, item.text_zh, item.sufficient) == ("workaround", "关闭 UPnP", True)
    assert case.has_sufficient_mitigation and facts_for_case(case).has_sufficient_mitigation
    assert "关闭 UPnP" in as_handler.get(url(case).replace("/en/", "/zh-hans/")).content.decode()
    assert as_handler.post(url(case, "mitigations"), {"mit-kind": "workaround", "mit-text_en": " "}).status_code == 400
    assert as_handler.post(url(case, "mitigations"), {"mit-kind": "magic", "mit-text_en": "x"}).status_code == 400
    assert as_handler.post(url(case, "mitigations/remove"), {"mitigation": str(item.public_id)}).status_code == 302
    assert not Mitigation.objects.exists()


def test_work_items_have_owners_with_need_to_know_and_due_dates(
    as_handler: Client, case: Case, invited: User, engineer: User
) -> None:
    data = {"work-title": "Patch httpd", "work-owner": str(invited.public_id), "work-due_date": "2026-12-01"}
    assert as_handler.post(url(case, "work"), data).status_code == 302
    item = WorkItem.objects.get()
    assert (item.owner, item.due_date) == (invited, dt.date(2026, 12, 1))
    # An engineer without need-to-know is not offered, and the service refuses them too.
    data["work-owner"] = str(engineer.public_id)
    assert as_handler.post(url(case, "work"), data).status_code == 400
    with pytest.raises(InvalidInput):
        assert case.created_by is not None
        remediation.add_work_item(case=case, title="x", owner=engineer, actor=case.created_by)


def test_the_owner_marks_their_work_item_done_but_changes_nothing_else(case: Case, invited: User, handler) -> None:
    item = remediation.add_work_item(case=case, title="Patch httpd", owner=invited, actor=handler)
    other = remediation.add_work_item(case=case, title="Build", owner=handler, actor=handler)
    client = client_for(invited)
    html = client.get(url(case)).content.decode()
    assert "Mark done" in html and "Add work item" not in html
    assert client.post(url(case, f"work/{item.public_id}"), {"action": "done"}).status_code == 302
    item.refresh_from_db()
    assert item.done_at is not None
    assert client.post(url(case, f"work/{item.public_id}"), {"action": "remove"}).status_code == 403
    assert client.post(url(case, f"work/{other.public_id}"), {"action": "done"}).status_code == 403
    with pytest.raises(NotAllowed):
        remediation.add_mitigation(case=case, text_en="x", actor=invited)


def test_work_item_of_another_case_is_not_found(as_handler: Client, case: Case, lead, handler, product) -> None:
    from psirt.tests.factories import make_report

    other = case_services.open_case(
        report=make_report(product, email="o@x.test"), actor=lead, title="Other", assignees=[handler]
    )
    item = remediation.add_work_item(case=other, title="x", actor=handler)
    assert as_handler.post(url(case, f"work/{item.public_id}"), {"action": "done"}).status_code == 404
    assert as_handler.post(url(other, f"work/{item.public_id}"), {"action": "bogus"}).status_code == 404
    too_long = {"work-title": "x" * 300}
    assert as_handler.post(url(case, "work"), too_long).status_code == 400

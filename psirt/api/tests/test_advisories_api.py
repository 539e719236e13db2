"""GET /api/v1/advisories, /{id}, /{id}/revisions: what the public pages show, as JSON; drafts do not exist."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
from django.test import Client

from psirt.accounts.models import Role, User
from psirt.advisories import services
from psirt.advisories.models import Advisory, AdvisoryState
from psirt.advisories.queries import PUBLIC_STATES

pytestmark = pytest.mark.django_db

LIST = "/api/v1/advisories"


def _path(url: str) -> str:
    parts = urlsplit(url)
    assert parts.scheme == "https" and parts.netloc == "psirt.test"  # PSIRT_BASE_URL of the tests
    return parts.path + ("?" + parts.query if parts.query else "")


def test_list_has_published_and_withdrawn_advisories_only(client: Client, demo: dict[str, Advisory]) -> None:
    body = client.get(LIST + "?limit=100").json()
    expected = set(Advisory.objects.filter(state__in=PUBLIC_STATES).values_list("advisory_id", flat=True))
    assert {a["id"] for a in body["results"]} == expected
    assert body["count"] == len(expected) == 5
    assert demo["draft"].advisory_id not in {a["id"] for a in body["results"]}
    assert {a["state"] for a in body["results"]} == {"published", "withdrawn"}
    first = body["results"][0]
    assert first["url"] == f"https://psirt.test/api/v1/advisories/{first['id']}"
    assert first["html_url"] == {
        "en": f"https://psirt.test/en/advisories/{first['id']}/",
        "zh-Hans": f"https://psirt.test/zh-hans/advisories/{first['id']}/",
    }


def test_pagination_walks_every_advisory_once_with_next_and_prev(client: Client, demo: dict[str, Advisory]) -> None:
    seen: list[str] = []
    url: str | None = LIST + "?limit=2&sort=oldest"
    pages = []
    while url:
        body = client.get(url).json()
        pages.append(body)
        assert body["count"] == 5 and len(body["results"]) <= 2
        seen += [a["id"] for a in body["results"]]
        url = _path(body["links"]["next"]) if body["links"]["next"] else None
    assert len(pages) == 3 and len(seen) == len(set(seen)) == 5
    assert pages[0]["links"]["prev"] is None
    assert _path(pages[2]["links"]["prev"]) == LIST + "?sort=oldest&limit=2&offset=2"
    assert client.get(_path(pages[2]["links"]["prev"])).json()["results"] == pages[1]["results"]
    # "oldest" is what the page's sort means: publication dates ascending.
    rows = sorted(Advisory.objects.filter(advisory_id__in=seen), key=lambda a: a.published_at)  # type: ignore[arg-type,return-value]
    assert [a.advisory_id for a in rows] == seen


def test_filters_are_those_of_the_list_page(client: Client, demo: dict[str, Advisory]) -> None:
    published = demo["published"]
    product = published.affected.first().product  # type: ignore[union-attr]
    by_product = client.get(f"{LIST}?product={product.slug}").json()["results"]
    assert by_product and all(product.slug in [p["slug"] for p in a["products"]] for a in by_product)
    by_line = client.get(f"{LIST}?line={product.line.slug}").json()["results"]
    assert {a["id"] for a in by_product} <= {a["id"] for a in by_line}
    critical = client.get(f"{LIST}?severity=Critical").json()["results"]
    assert critical and all(a["severity"] == "Critical" for a in critical)
    active = client.get(f"{LIST}?exploitation=active").json()["results"]
    assert active and all(a["exploitation"] == "active" for a in active)
    year = published.published_at.year  # type: ignore[union-attr]
    assert published.advisory_id in {a["id"] for a in client.get(f"{LIST}?year={year}").json()["results"]}
    assert client.get(f"{LIST}?year={year - 5}").json()["count"] == 0
    found = client.get(f"{LIST}?q={published.advisory_id.lower()}").json()["results"]
    assert [a["id"] for a in found] == [published.advisory_id]
    # A draft is not found by any filter, not even its own title.
    assert client.get(LIST, {"q": demo["draft"].title_en}).json()["count"] == 0
    scores = [a["score"] or 0 for a in client.get(f"{LIST}?sort=severity").json()["results"]]
    assert scores == sorted(scores, reverse=True)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("severity=Severe", "severity"),
        ("year=26", "year"),
        ("exploitation=maybe", "exploitation"),
        ("sort=random", "sort"),
        ("product=a%20b", "product"),
        ("line=%3Cscript%3E", "line"),
        ("q=" + "x" * 101, "q"),
    ],
)
def test_an_unknown_filter_value_is_a_400_naming_it(client: Client, demo: Any, query: str, field: str) -> None:
    response = client.get(f"{LIST}?{query}")
    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"detail", "errors"} and list(body["errors"]) == [field]
    assert body["errors"][field][0] and "<script>" not in response.content.decode()


@pytest.mark.parametrize("query", ["limit=0", "limit=101", "offset=-1", "limit=ten"])
def test_bad_paging_is_a_422_problem(client: Client, demo: Any, query: str) -> None:
    response = client.get(f"{LIST}?{query}")
    assert response.status_code == 422
    body = response.json()
    assert set(body) == {"detail", "errors"}
    assert list(body["errors"]) == [query.split("=")[0]]


def test_detail_has_every_public_field_in_both_languages(client: Client, demo: dict[str, Advisory]) -> None:
    a = demo["published"]
    response = client.get(f"{LIST}/{a.advisory_id}")
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == a.advisory_id and body["state"] == "published"
    assert body["title"] == {"en": a.title_en, "zh-Hans": a.title_zh} and a.title_zh
    assert body["summary"] == {"en": a.summary_en, "zh-Hans": a.summary_zh}
    assert body["description"]["en"] == a.description_en
    assert body["workarounds"] == {"en": a.workarounds_en, "zh-Hans": a.workarounds_zh}
    assert body["cve_ids"] == a.cve_ids and body["other_ids"] == a.other_ids
    assert body["acknowledgments_en"] == [line.strip() for line in a.credits_en.splitlines() if line.strip()]
    assert body["cwe"]["id"] == f"CWE-{a.cwe_id}" and body["cwe"]["name"]
    vectors = {s["version"]: s for s in body["scores"]}
    if a.cvss31_vector:
        assert vectors["3.1"]["base"] == float(a.cvss31_base) and vectors["3.1"]["threat"] is None  # type: ignore[arg-type]
    if a.cvss40_vector:
        assert vectors["4.0"]["base"] == float(a.cvss40_base) and vectors["4.0"]["temporal"] is None  # type: ignore[arg-type]
    assert body["score"] == float(a.score)  # type: ignore[arg-type]
    row = a.affected.select_related("product", "introduced", "fixed").get()
    (affected,) = body["affected"]
    assert affected["product"] == {"slug": row.product.slug, "name": row.product.name, "variant": row.variant}
    assert affected["introduced"] == (row.introduced.version if row.introduced else None)
    if row.fixed is not None:
        assert affected["fixed"]["version"] == row.fixed.version
        assert affected["fixed"]["version"] not in affected["affected_versions"]
    assert affected["affected_versions"]
    assert body["links"]["html"]["zh-Hans"].endswith(f"/zh-hans/advisories/{a.advisory_id}/")
    assert _path(body["links"]["revisions"]) == f"{LIST}/{a.advisory_id}/revisions"


def test_detail_answers_any_letter_case_of_the_id(client: Client, demo: dict[str, Advisory]) -> None:
    a = demo["published"]
    assert client.get(f"{LIST}/{a.advisory_id.lower()}").json()["id"] == a.advisory_id


def test_withdrawn_advisory_keeps_its_reason(client: Client, demo: dict[str, Advisory]) -> None:
    a = demo["withdrawn"]
    body = client.get(f"{LIST}/{a.advisory_id}").json()
    assert body["state"] == "withdrawn" and body["withdrawn_reason"] == a.withdrawn_reason != ""
    assert body["withdrawn_at"]


def test_revisions_are_numbered_oldest_first(client: Client, demo: dict[str, Advisory]) -> None:
    a = demo["published"]
    body = client.get(f"{LIST}/{a.advisory_id}/revisions").json()
    assert body["advisory"] == a.advisory_id
    assert [r["number"] for r in body["results"]] == list(
        a.revisions.order_by("number").values_list("number", flat=True)
    )
    assert len(body["results"]) >= 2
    assert body["results"][0]["summary_en"] == a.revisions.get(number=1).summary_en


@pytest.mark.parametrize("suffix", ["", "/revisions"])
def test_a_draft_is_404_exactly_like_an_unknown_id(client: Client, demo: dict[str, Advisory], suffix: str) -> None:
    draft = demo["draft"]
    assert draft.state == AdvisoryState.DRAFT
    unknown = client.get(f"{LIST}/VT-SA-2099-999{suffix}")
    for advisory_id in (draft.advisory_id, draft.advisory_id.lower()):
        response = client.get(f"{LIST}/{advisory_id}{suffix}")
        assert response.status_code == unknown.status_code == 404
        assert response.content == unknown.content
        assert response.json() == {"detail": "No published advisory has this ID.", "errors": {}}
        assert draft.title_en not in response.content.decode()
        assert response["Cache-Control"] == unknown["Cache-Control"]


@pytest.mark.parametrize("state", ["in_review", "approved"])
def test_advisories_on_their_way_to_publication_are_not_there_either(
    client: Client, demo: dict[str, Advisory], state: str
) -> None:
    draft = demo["draft"]
    Advisory.objects.filter(pk=draft.pk).update(state=state)
    assert client.get(f"{LIST}/{draft.advisory_id}").status_code == 404
    assert draft.advisory_id not in client.get(LIST + "?limit=100").content.decode()


def test_a_nul_in_the_id_is_a_plain_404(client: Client, demo: Any) -> None:
    assert client.get(f"{LIST}/VT-SA-2026-001%00").status_code == 404


# --- caching ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["", "/{id}", "/{id}/revisions"])
def test_etag_gives_304_and_public_cache_headers(client: Client, demo: dict[str, Advisory], suffix: str) -> None:
    url = LIST + suffix.replace("{id}", demo["published"].advisory_id)
    first = client.get(url)
    assert first.status_code == 200
    assert first["Cache-Control"] == "public, max-age=60, must-revalidate"
    assert first["ETag"].startswith('"') and first["Last-Modified"]
    again = client.get(url, headers={"If-None-Match": first["ETag"]})
    assert again.status_code == 304 and again.content == b""
    assert again["ETag"] == first["ETag"] and "no-store" not in again["Cache-Control"]
    assert client.get(url, headers={"If-None-Match": f'"other", W/{first["ETag"]}'}).status_code == 304
    assert client.get(url, headers={"If-None-Match": '"other"'}).status_code == 200
    assert client.get(url, headers={"If-Modified-Since": first["Last-Modified"]}).status_code == 304


def test_a_revision_changes_the_etag(client: Client, demo: dict[str, Advisory], lead: Any) -> None:
    a = demo["published"]
    url = f"{LIST}/{a.advisory_id}"
    before = client.get(url)
    services.update_advisory(
        advisory=a,
        actor=lead,
        changes={"workarounds_en": "Unplug it."},
        revision_summary_en="New workaround.",
        revision_summary_zh="",
    )
    # An open revision is not public: the answer stays the same until a lead publishes it.
    assert client.get(url, headers={"If-None-Match": before["ETag"]}).status_code == 304
    services.submit_for_review(advisory=a, actor=lead)
    # Four eyes (the demo has a second lead): the lead who opened the revision does not approve it.
    other_lead = User.objects.filter(role=Role.LEAD, is_active=True).exclude(pk=lead.pk).first()
    assert other_lead is not None
    services.approve_advisory(advisory=a, actor=other_lead)
    services.publish_advisory(advisory=a, actor=lead)
    after = client.get(url, headers={"If-None-Match": before["ETag"]})
    assert after.status_code == 200 and after.json()["workarounds"]["en"] == "Unplug it."
    assert after["ETag"] != before["ETag"]
    revisions = client.get(url + "/revisions").json()["results"]
    assert revisions[-1]["summary_en"] == "New workaround."


def test_a_catalog_rename_changes_the_etag_of_the_list(client: Client, demo: dict[str, Advisory]) -> None:
    # The list names the products: their names are in the body, so the ETag follows them even though the
    # advisories' own change stamp does not move.
    before = client.get(LIST)
    product = demo["published"].affected.first().product  # type: ignore[union-attr]
    product.name = "Renamed camera"
    product.save()
    after = client.get(LIST, headers={"If-None-Match": before["ETag"]})
    assert after.status_code == 200 and "Renamed camera" in after.content.decode()


def test_a_signed_in_visitor_gets_the_same_public_answer(as_handler: Client, client: Client, demo: Any) -> None:
    mine, theirs = as_handler.get(LIST), client.get(LIST)
    assert mine.content == theirs.content and mine["ETag"] == theirs["ETag"]
    assert mine["Cache-Control"] == "public, max-age=60, must-revalidate"


def test_answers_of_the_confidential_api_stay_no_store(client: Client, demo: Any) -> None:
    assert client.get("/api/v1/cases")["Cache-Control"] == "no-store, private"
    assert client.get(f"{LIST}/VT-SA-2099-999")["Cache-Control"] == "no-store, private"

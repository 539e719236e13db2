"""Am I affected? — catalog order (not string order), the lowest release that fixes all, unknown versions
answered honestly; the page and GET /api/v1/affected."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from psirt.accounts.models import User
from psirt.advisories import services
from psirt.advisories.models import Advisory
from psirt.advisories.queries import AffectedQuery, check_affected
from psirt.advisories.tests.conftest import make_case, publish
from psirt.advisories.views import affected as affected_views
from psirt.catalog.models import FirmwareRelease, Product
from psirt.lib.kept import forget_all

PAGE = "/en/affected/"
API = "/api/v1/affected"


def _ask(version: str) -> object:
    return check_affected(AffectedQuery.from_params({"product": "cam-x5", "version": version}))


@pytest.mark.parametrize(
    "version,affected,update_to",
    [
        ("V5.4.0", False, None),  # before the first affected release
        ("V5.5.0", True, "V5.6.0"),
        ("V5.5.2", True, "V5.6.0"),
        ("5.5.2", True, "V5.6.0"),  # typed without the "V"
        (" v5.5.2 ", True, "V5.6.0"),
        ("V5.6.0", False, None),  # the fixing release
        ("V5.10.0", False, None),  # newer than V5.6.0 in the catalog, older by string comparison
    ],
)
def test_versions_follow_catalog_order(
    published: Advisory, version: str, affected: bool, update_to: str | None
) -> None:
    answer = _ask(version)
    assert answer.known  # type: ignore[attr-defined]
    assert bool(answer.hits) is affected  # type: ignore[attr-defined]
    assert (answer.update_to.version if answer.update_to else None) == update_to  # type: ignore[attr-defined]


def test_lowest_release_that_fixes_all(
    published: Advisory, product: Product, releases: dict[str, FirmwareRelease], lead: User, yesterday
) -> None:  # type: ignore[no-untyped-def]
    case = make_case(product=product, disclosure_date=yesterday)
    second = services.create_advisory(cases=[case], actor=lead)
    services.update_advisory(
        advisory=second,
        actor=lead,
        changes={"title_en": "Second"},
        affected=[services.AffectedInput(product=product, fixed=releases["V5.10.0"])],
    )
    publish(second, lead)
    answer = _ask("V5.5.2")
    assert {h.advisory.advisory_id for h in answer.hits} == {published.advisory_id, second.advisory_id}  # type: ignore[attr-defined]
    assert answer.update_to.version == "V5.10.0"  # type: ignore[attr-defined]
    assert _ask("V5.6.0").update_to.version == "V5.10.0"  # type: ignore[attr-defined]


def test_no_fix_yet_is_said(published: Advisory, product: Product, lead: User, yesterday) -> None:  # type: ignore[no-untyped-def]
    case = make_case(product=product, disclosure_date=yesterday, exploitation="active")
    unfixed = services.create_advisory(cases=[case], actor=lead)
    services.set_expedite_justification(advisory=unfixed, actor=lead, justification="Exploited.")
    services.approve_expedite(advisory=unfixed, actor=lead)
    services.publish_advisory(advisory=unfixed, actor=lead, expedite=True)
    answer = _ask("V5.10.0")
    assert [h.advisory.advisory_id for h in answer.hits] == [unfixed.advisory_id]  # type: ignore[attr-defined]
    assert answer.update_to is None  # type: ignore[attr-defined]


def test_drafts_do_not_count(draft: Advisory) -> None:
    assert not _ask("V5.5.2").hits  # type: ignore[attr-defined]


def test_unknown_version_is_answered_honestly(published: Advisory, anonymous: Client) -> None:
    answer = _ask("V5.5.1")
    assert not answer.known  # type: ignore[attr-defined]
    assert (answer.older.version, answer.newer.version) == ("V5.5.0", "V5.5.2")  # type: ignore[attr-defined]
    html = anonymous.get(PAGE, {"product": "cam-x5", "version": "V5.5.1"}).content.decode()
    assert "is not in our catalog, so we cannot tell whether it is affected" in html
    assert "V5.5.0" in html and "V5.5.2" in html


def test_page_flow_without_javascript(
    published: Advisory, releases: dict[str, FirmwareRelease], anonymous: Client
) -> None:
    found = anonymous.get(PAGE, {"q": "X5-200"}).content.decode()
    assert 'value="cam-x5"' in found
    none = anonymous.get(PAGE, {"q": "zzz"}).content.decode()
    assert "No product matches this search." in none
    picked = anonymous.get(PAGE, {"product": "cam-x5"}).content.decode()
    assert f'value="{releases["V5.5.2"].public_id}"' in picked
    answer = anonymous.get(PAGE, {"product": "cam-x5", "release": str(releases["V5.5.2"].public_id)})
    html = answer.content.decode()
    assert answer.status_code == 200
    assert published.advisory_id in html and "sev-critical" in html
    assert "Update to firmware <strong>V5.6.0</strong> or later" in html
    clean = anonymous.get(PAGE, {"product": "cam-x5", "version": "V5.6.0"}).content.decode()
    assert "no published advisory affects this version" in clean


@pytest.mark.parametrize(
    "params",
    [
        {"product": "../../etc/passwd", "version": "1"},
        {"product": "cam-x5", "version": "9" * 500},
        {"product": "cam-x5", "release": "not-a-uuid"},
        {"q": "x" * 1000},
    ],
)
def test_bad_input_gets_a_clear_400(published: Advisory, anonymous: Client, params: dict[str, str]) -> None:
    response = anonymous.get(PAGE, params)
    assert response.status_code == 400
    assert 'class="errorlist"' in response.content.decode()


def test_api_answers_like_the_page(published: Advisory, anonymous: Client) -> None:
    data = anonymous.get(API, {"product": "cam-x5", "version": "V5.5.2"}).json()
    assert data["affected"] is True and data["known_version"] is True
    assert [a["id"] for a in data["advisories"]] == [published.advisory_id]
    assert data["advisories"][0]["severity"] == "Critical"
    assert data["advisories"][0]["url"].endswith(published.get_absolute_url())
    assert data["update_to"]["version"] == "V5.6.0"
    unknown = anonymous.get(API, {"product": "cam-x5", "version": "V5.5.1"}).json()
    assert unknown["affected"] is None and [r["version"] for r in unknown["nearest_known"]] == ["V5.5.0", "V5.5.2"]
    assert anonymous.get(API, {"product": "cam-x5", "version": "V5.6.0"}).json()["affected"] is False


@pytest.mark.parametrize(
    "params,status",
    [
        ({}, 400),
        ({"product": "cam-x5"}, 400),
        ({"product": "Cam X5!", "version": "1"}, 400),
        ({"product": "cam-x5", "version": "1" * 101}, 400),
        ({"product": "no-such-product", "version": "1"}, 404),
    ],
)
def test_api_bad_queries(published: Advisory, anonymous: Client, params: dict[str, str], status: int) -> None:
    response = anonymous.get(API, params)
    assert response.status_code == status
    assert response.json()["detail"]


def test_software_updates_tag_lists_the_advisories_a_release_fixes(
    published: Advisory, releases: dict[str, FirmwareRelease]
) -> None:
    from django.db import connection
    from django.template import Context, Template
    from django.test.utils import CaptureQueriesContext

    template = Template(
        "{% load psirt_advisories %}{% for r in releases %}{% advisories_fixed_by r as fixed %}"
        "{{ r.version }}:{% for a in fixed %}{{ a.advisory_id }}{% endfor %};{% endfor %}"
    )
    with CaptureQueriesContext(connection) as queries:
        out = template.render(Context({"releases": list(releases.values())}))
    assert f"V5.6.0:{published.advisory_id};" in out
    assert "V5.5.2:;" in out
    assert len(queries.captured_queries) == 1


def test_a_typed_version_wins_over_the_list(
    published: Advisory, releases: dict[str, FirmwareRelease], anonymous: Client
) -> None:
    html = anonymous.get(
        PAGE, {"product": "cam-x5", "release": str(releases["V5.4.0"].public_id), "version": "V5.5.2"}
    ).content.decode()
    assert published.advisory_id in html
    assert 'value="V5.5.2"' in html


def test_once_a_product_is_chosen_only_its_versions_are_sent(
    published: Advisory, releases: dict[str, FirmwareRelease], product: Product, anonymous: Client
) -> None:
    other = Product.objects.create(line=product.line, slug="router-r1", name="Router R1")
    first_step = anonymous.get(PAGE).content.decode()
    assert 'value="router-r1"' in first_step and 'value="cam-x5"' in first_step
    second_step = anonymous.get(PAGE, {"product": "cam-x5"}).content.decode()
    assert other.slug not in second_step and 'id="aproduct"' not in second_step
    assert 'type="hidden" name="product" value="cam-x5"' in second_step
    assert "Choose another product" in second_step
    answer = anonymous.get(PAGE, {"product": "cam-x5", "release": str(releases["V5.5.2"].public_id)}).content.decode()
    assert f'<option value="{releases["V5.5.2"].public_id}" selected>V5.5.2</option>' in answer
    assert other.slug not in answer


def test_an_unknown_product_goes_back_to_the_first_step(published: Advisory, anonymous: Client) -> None:
    html = anonymous.get(PAGE, {"product": "no-such-product", "version": "1.0"}).content.decode()
    assert "Unknown product" in html and 'id="aproduct"' in html


def test_the_answer_costs_a_fixed_number_of_queries(
    published: Advisory, releases: dict[str, FirmwareRelease], product: Product, anonymous: Client
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    params = {"product": "cam-x5", "version": "V5.5.2"}
    anonymous.get(PAGE, params)
    with CaptureQueriesContext(connection) as few:
        anonymous.get(PAGE, params)
    Product.objects.bulk_create(Product(line=product.line, slug=f"p-{n}", name=f"P {n}") for n in range(50))
    with CaptureQueriesContext(connection) as many:
        anonymous.get(PAGE, params)
    assert len(many.captured_queries) == len(few.captured_queries) <= 6


def test_more_advisories_cost_no_more_queries(
    published: Advisory,
    releases: dict[str, FirmwareRelease],
    product: Product,
    lead: User,
    anonymous: Client,
    yesterday: dt.date,
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    params = {"product": "cam-x5", "version": "V5.5.2"}
    anonymous.get(PAGE, params)
    forget_all()  # both counts below are of a first reading (the product's rows are kept after it)
    with CaptureQueriesContext(connection) as one:
        anonymous.get(PAGE, params)
    for n in range(3):
        extra = services.create_advisory(cases=[make_case(product=product, disclosure_date=yesterday)], actor=lead)
        services.update_advisory(
            advisory=extra,
            actor=lead,
            changes={"title_en": f"Extra {n}", "title_zh": f"额外 {n}"},
            affected=[services.AffectedInput(product=product, fixed=releases["V5.10.0"])],
        )
        publish(extra, lead)
    forget_all()
    with CaptureQueriesContext(connection) as four:
        html = anonymous.get(PAGE, params).content.decode()
    assert len(four.captured_queries) == len(one.captured_queries)
    assert all(f"Extra {n}" in html for n in range(3)) and published.title_en in html
    chinese = anonymous.get(PAGE.replace("/en/", "/zh-hans/"), params).content.decode()
    assert all(f"额外 {n}" in chinese for n in range(3))


def test_a_new_release_shows_at_once_though_the_products_releases_are_kept(
    published: Advisory, releases: dict[str, FirmwareRelease], product: Product, anonymous: Client, settings
) -> None:  # type: ignore[no-untyped-def]
    settings.PSIRT_PUBLIC_PAGE_CACHE = 0  # every request renders
    params = {"product": "cam-x5", "version": "V5.5.2"}
    before = anonymous.get(PAGE, params).content.decode()
    assert published.advisory_id in before and "V5.11.0" not in before
    FirmwareRelease.objects.create(product=product, version="V5.11.0", position=200)
    after = anonymous.get(PAGE, params).content.decode()
    assert "V5.11.0" in after and published.advisory_id in after
    newest = anonymous.get(PAGE, {"product": "cam-x5", "version": "V5.11.0"}).content.decode()
    assert "no published advisory affects this version" in newest  # past the fix, and known at once


def test_the_version_options_are_rendered_once_per_list_version_and_selection(
    published: Advisory,
    releases: dict[str, FirmwareRelease],
    product: Product,
    anonymous: Client,
    settings,
    monkeypatch,
) -> None:  # type: ignore[no-untyped-def]
    settings.PSIRT_PUBLIC_PAGE_CACHE = 0  # every request renders
    built: list[str] = []
    real = affected_views.select_options

    def counted(pairs: list[tuple[str, str]], selected: str) -> str:
        built.append(selected)
        return real(pairs, selected)

    monkeypatch.setattr(affected_views, "select_options", counted)
    chosen = {r: str(releases[r].public_id) for r in ("V5.5.2", "V5.6.0")}
    pages = [
        anonymous.get(PAGE, {"product": "cam-x5", "release": chosen[r]}).content.decode()
        for r in ("V5.5.2", "V5.5.2", "V5.6.0", "V5.5.2")
    ]
    assert built == [chosen["V5.5.2"], chosen["V5.6.0"]]  # once per selection
    assert f'<option value="{chosen["V5.5.2"]}" selected>V5.5.2</option>' in pages[3]
    assert f'<option value="{chosen["V5.6.0"]}" selected>V5.6.0</option>' in pages[2]
    assert pages[0] == pages[1] == pages[3]
    FirmwareRelease.objects.create(product=product, version="V5.11.0", position=200)  # moves the list version
    after = anonymous.get(PAGE, {"product": "cam-x5", "release": chosen["V5.5.2"]}).content.decode()
    assert ">V5.11.0</option>" in after and len(built) == 3

"""Atom feeds of the public advisories: valid Atom (the required elements of RFC 4287), published advisories and
their revisions only, hostile titles kept as text, one feed per product line, both languages, conditional GET, and
the feed link in the head of the public pages."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from psirt.accounts.models import User
from psirt.advisories import services
from psirt.advisories.models import Advisory, Revision
from psirt.advisories.tests.conftest import approve, make_case, publish, revise
from psirt.advisories.views.feeds import build_feed
from psirt.catalog.models import Product, ProductLine
from psirt.organization.models import OrganizationProfile
from psirt.tests.factories import make_line, make_product

pytestmark = pytest.mark.django_db

A = "{http://www.w3.org/2005/Atom}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
FEED = "/feeds/advisories.atom"
BASE = "https://psirt.test"


def _feed(client: Client, path: str = FEED) -> ET.Element:
    response = client.get(path)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/atom+xml; charset=utf-8"
    root = ET.fromstring(response.content)
    _assert_valid_atom(root)
    return root


def _assert_valid_atom(root: ET.Element) -> None:
    """The MUSTs of RFC 4287 a reader relies on (feedvalidator is not available offline)."""
    assert root.tag == f"{A}feed"
    for name in ("id", "title", "updated"):
        assert len(root.findall(f"{A}{name}")) == 1, name
    assert root.find(f"{A}author/{A}name") is not None  # so no entry needs its own author
    assert [link.get("href") for link in root.findall(f"{A}link[@rel='self']")]
    for text in [root.findtext(f"{A}updated"), *[e.findtext(f"{A}updated") for e in root.findall(f"{A}entry")]]:
        assert text and dt.datetime.fromisoformat(text.replace("Z", "+00:00")).tzinfo is not None
    ids = []
    for entry in root.findall(f"{A}entry"):
        for name in ("id", "title", "updated"):
            assert len(entry.findall(f"{A}{name}")) == 1, name
        alternates = entry.findall(f"{A}link[@rel='alternate']")
        assert len(alternates) == 1 and alternates[0].get("href", "").startswith(BASE + "/")
        ids.append(entry.findtext(f"{A}id"))
    assert len(ids) == len(set(ids)), "entry IDs are unique within a feed"


def _titles(root: ET.Element) -> list[str]:
    return [e.findtext(f"{A}title") or "" for e in root.findall(f"{A}entry")]


def _draft(product: Product, lead: User, title: str) -> Advisory:
    case = make_case(product=product, title=title, disclosure_date=timezone.localdate() - dt.timedelta(days=1))
    return services.create_advisory(cases=[case], actor=lead)


def test_published_advisory_is_listed_drafts_and_unpublished_never(
    client: Client, published: Advisory, product: Product, lead: User
) -> None:
    draft = _draft(product, lead, "Secret draft about the backdoor")
    in_review = services.submit_for_review(advisory=_draft(product, lead, "Secret in review"), actor=lead)
    approved = approve(_draft(product, lead, "Secret approved"), lead)
    root = _feed(client)
    body = ET.tostring(root, encoding="unicode")
    assert _titles(root) == [f"{published.advisory_id}: {published.title_en}"]
    for hidden in (draft, in_review, approved):
        assert hidden.advisory_id not in body and "Secret" not in body
    (entry,) = root.findall(f"{A}entry")
    assert entry.find(f"{A}link[@rel='alternate']").get("href") == f"{BASE}/en/advisories/{published.advisory_id}/"  # type: ignore[union-attr]
    assert entry.findtext(f"{A}summary") == "A crafted request runs code as root."
    csaf = entry.find(f"{A}link[@rel='related']")
    assert csaf is not None and csaf.get("href", "").startswith(f"{BASE}/.well-known/csaf/white/")
    # The entry's page exists for a visitor.
    assert client.get(f"/en/advisories/{published.advisory_id}/").status_code == 200


def test_revisions_are_entries_newest_first_and_a_withdrawal_is_news(
    client: Client, published: Advisory, lead: User
) -> None:
    revise(advisory=published, actor=lead, changes={}, revision_summary_en="Added the fixed release for X5-200.")
    services.withdraw_advisory(advisory=published, actor=lead, reason="Duplicate of an earlier advisory.")
    root = _feed(client)
    aid, title = published.advisory_id, published.title_en
    assert _titles(root) == [
        f"{aid}, revision 3: {title}",
        f"{aid}, revision 2: {title}",
        f"{aid}: {title}",
    ]
    summaries = [e.findtext(f"{A}summary") for e in root.findall(f"{A}entry")]
    assert summaries[:2] == ["Withdrawn: Duplicate of an earlier advisory.", "Added the fixed release for X5-200."]
    updated = [e.findtext(f"{A}updated") or "" for e in root.findall(f"{A}entry")]
    assert updated == sorted(updated, reverse=True)
    assert root.findtext(f"{A}updated") == updated[0]
    # An entry keeps its ID when the feed changes around it.
    first_ids = [e.findtext(f"{A}id") for e in root.findall(f"{A}entry")]
    Advisory.objects.filter(pk=published.pk).update(title_en="Renamed")
    assert [e.findtext(f"{A}id") for e in _feed(client).findall(f"{A}entry")] == first_ids


def test_revisions_of_an_advisory_that_is_no_longer_public_disappear(client: Client, published: Advisory) -> None:
    # No service takes a published advisory back to draft today; should one ever do, its revisions stay in the
    # database but must leave the feed with it.
    Advisory.objects.filter(pk=published.pk).update(state="draft")
    assert _titles(_feed(client)) == []
    assert published.advisory_id not in client.get(FEED).content.decode()


def test_the_feed_keeps_the_last_fifty_entries(client: Client, published: Advisory) -> None:
    start = published.published_at or timezone.now()
    Revision.objects.bulk_create(
        Revision(advisory=published, number=n, date=start + dt.timedelta(minutes=n), summary_en=f"Change {n}.")
        for n in range(2, 62)
    )
    entries = _feed(client).findall(f"{A}entry")
    assert len(entries) == 50
    assert entries[0].findtext(f"{A}summary") == "Change 61." and entries[-1].findtext(f"{A}summary") == "Change 12."


@pytest.mark.parametrize(
    "title",
    [
        "</title></entry><entry><id>urn:x</id><title>Injected",
        "<![CDATA[ ]]> & <script>alert(1)</script> &amp;",
        "Bell \x07 escape \x1b[31m and a right-to-left override \u202e",
    ],
)
def test_hostile_titles_are_text_not_markup(client: Client, published: Advisory, title: str) -> None:
    Advisory.objects.filter(pk=published.pk).update(title_en=title, summary_en=title)
    root = _feed(client)
    (entry,) = root.findall(f"{A}entry")
    shown = entry.findtext(f"{A}title") or ""
    assert shown.startswith(f"{published.advisory_id}: ")
    assert "\x07" not in shown and "\x1b" not in shown and "\u202e" not in shown
    expected = title.replace("\x07", "").replace("\x1b", "").replace("\u202e", "")
    assert shown == f"{published.advisory_id}: {expected}"
    assert entry.findtext(f"{A}summary") == expected


def test_chinese_variant_has_chinese_texts_and_pages(client: Client, published: Advisory, lead: User) -> None:
    Advisory.objects.filter(pk=published.pk).update(
        title_zh="网页界面远程代码执行", summary_zh="构造的请求以 root 身份运行代码。"
    )
    root = _feed(client, FEED + "?lang=zh-hans")
    assert root.get(XML_LANG) == "zh-Hans"
    (entry,) = root.findall(f"{A}entry")
    assert entry.findtext(f"{A}title") == f"{published.advisory_id}：网页界面远程代码执行"
    assert entry.findtext(f"{A}summary") == "构造的请求以 root 身份运行代码。"
    href = entry.find(f"{A}link[@rel='alternate']").get("href")  # type: ignore[union-attr]
    assert href == f"{BASE}/zh-hans/advisories/{published.advisory_id}/"
    assert root.find(f"{A}link[@rel='self']").get("href") == f"{BASE}{FEED}?lang=zh-hans"  # type: ignore[union-attr]
    english = _feed(client)
    assert english.get(XML_LANG) == "en"
    assert _titles(english) == [f"{published.advisory_id}: {published.title_en}"]
    assert english.findtext(f"{A}entry/{A}id") != entry.findtext(f"{A}id")


def test_an_unknown_language_is_refused_with_a_message(client: Client) -> None:
    response = client.get(FEED + "?lang=fr")
    assert response.status_code == 400
    assert b"lang=zh-hans" in response.content


def test_one_feed_per_product_line(client: Client, published: Advisory, line: ProductLine, lead: User) -> None:
    router = make_product(make_line("routers", "Routers", position=2), "rt-1", "Router RT-1")
    other = _draft(router, lead, "Router advisory")
    other = services.update_advisory(advisory=other, actor=lead, changes={}, affected=[])
    cameras = _feed(client, f"/feeds/{line.slug}.atom")
    assert _titles(cameras) == [f"{published.advisory_id}: {published.title_en}"]
    assert cameras.findtext(f"{A}title", "").endswith(": IP cameras")
    assert cameras.find(f"{A}link[@rel='self']").get("href") == f"{BASE}/feeds/cameras.atom"  # type: ignore[union-attr]
    # A line without published advisories has a valid, empty feed.
    assert _titles(_feed(client, "/feeds/routers.atom")) == []
    assert other.advisory_id not in client.get("/feeds/routers.atom").content.decode()


def test_unknown_line_and_path_tricks_are_not_found(client: Client) -> None:
    for path in [
        "/feeds/no-such-line.atom",
        "/feeds/../feeds/advisories.atom.bak",
        "/feeds/a%2Fb.atom",
        "/feeds/.atom",
    ]:
        assert client.get(path).status_code == 404, path


def test_conditional_get(client: Client, published: Advisory, lead: User) -> None:
    response = client.get(FEED)
    assert response["ETag"] and response["Last-Modified"]
    assert "public" in response["Cache-Control"]
    assert client.get(FEED, headers={"if-none-match": response["ETag"]}).status_code == 304
    assert client.get(FEED, headers={"if-modified-since": response["Last-Modified"]}).status_code == 304
    # The zh-hans variant is another document with another tag.
    assert client.get(FEED + "?lang=zh-hans", headers={"if-none-match": response["ETag"]}).status_code == 200
    revise(advisory=published, actor=lead, changes={}, revision_summary_en="New fix.")
    assert client.get(FEED, headers={"if-none-match": response["ETag"]}).status_code == 200


def test_a_title_edit_without_revision_is_not_hidden_by_if_modified_since(client: Client, published: Advisory) -> None:
    response = client.get(FEED)
    later = timezone.now() + dt.timedelta(seconds=5)
    Advisory.objects.filter(pk=published.pk).update(title_en="Corrected title", updated_at=later)
    again = client.get(FEED, headers={"if-modified-since": response["Last-Modified"]})
    assert again.status_code == 200 and b"Corrected title" in again.content


def test_only_get_and_head(client: Client) -> None:
    assert client.head(FEED).status_code == 200
    assert client.post(FEED).status_code == 405


def test_public_pages_announce_the_feed_of_their_language(client: Client, as_lead: Client) -> None:
    link = '<link rel="alternate" type="application/atom+xml" href="/feeds/advisories.atom'
    english = client.get("/en/").content.decode()
    assert link + '" ' in english
    assert link + '?lang=zh-hans"' in client.get("/zh-hans/").content.decode()
    advisories = client.get("/en/advisories/").content.decode()
    assert advisories.count('rel="alternate" type="application/atom+xml"') == 1
    assert 'href="/feeds/advisories.atom" type="application/atom+xml"' in advisories  # the visible link
    desk = as_lead.get("/en/desk/")
    assert desk.status_code == 200 and "application/atom+xml" not in desk.content.decode()


def test_demo_of_publish_helper_keeps_feed_consistent(client: Client, draft: Advisory, lead: User) -> None:
    assert _titles(_feed(client)) == []
    publish(draft, lead)
    assert len(_titles(_feed(client))) == 1


def test_queries_stay_flat_whatever_the_number_of_entries(published: Advisory, django_assert_num_queries: Any) -> None:
    start = published.published_at or timezone.now()
    Revision.objects.bulk_create(
        Revision(advisory=published, number=n, date=start + dt.timedelta(minutes=n), summary_en=f"Change {n}.")
        for n in range(2, 40)
    )
    OrganizationProfile.get()
    with django_assert_num_queries(2):  # the profile, the revisions with their advisories (long texts left out)
        feed = build_feed()
    assert feed.body.count("<entry>") == 39


def test_the_rss_address_redirects_for_good_to_the_atom_feed(client: Client) -> None:
    response = client.get("/feeds/advisories.rss")
    assert response.status_code == 301
    assert response["Location"] == FEED
    assert client.get("/feeds/advisories.rss?lang=zh-hans")["Location"] == FEED + "?lang=zh-hans"
    # Only the full feed has an RSS alias; an unknown .rss address is not found.
    assert client.get("/feeds/other.rss").status_code == 404

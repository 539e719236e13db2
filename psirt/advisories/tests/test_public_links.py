"""Advisories where other public pages show them: the home page, the hall of fame, Software updates."""

from __future__ import annotations

from django.test import Client

from psirt.advisories.models import Advisory


def test_home_lists_the_published_advisory(client: Client, published: Advisory) -> None:
    html = client.get("/en/").content.decode()
    assert published.advisory_id in html
    assert "There is currently no information to display." not in html.split("How we handle")[0]


def test_software_updates_names_the_advisory_a_release_fixes(client: Client, published: Advisory) -> None:
    product = published.affected.get().product
    html = client.get(f"/en/updates/{product.slug}/").content.decode()
    fixed_card = html[html.index("V5.6.0") :]
    fixed_card = fixed_card[: fixed_card.index("</article>")]
    assert published.advisory_id in fixed_card
    older_card = html[html.index("V5.5.0") :]
    assert published.advisory_id not in older_card[: older_card.index("</article>")]


def test_drafts_appear_on_no_public_page(client: Client, draft: Advisory) -> None:
    product = draft.affected.get().product
    for path in ("/en/", f"/en/updates/{product.slug}/", "/en/acknowledgments/"):
        assert draft.advisory_id not in client.get(path).content.decode(), path


def test_score_table_names_the_severity_in_the_visitors_language(client: Client, published: Advisory) -> None:
    from django.utils import translation

    with translation.override("zh-hans"):
        html = client.get(f"/zh-hans/advisories/{published.advisory_id}/").content.decode()
    scores = html[html.index('id="scores"') :]
    scores = scores[: scores.index("</table>")]
    assert "sev-critical" in scores
    assert "严重" in scores and "Critical" not in scores

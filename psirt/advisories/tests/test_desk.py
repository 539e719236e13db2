"""Desk authoring pages: need-to-know access for every URL and persona, the authoring flow, the preview."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from conftest import client_for
from psirt.accounts.models import User
from psirt.advisories.models import Advisory, AdvisoryState
from psirt.audit.models import AuditEvent
from psirt.cases.models import Case, CaseReference
from psirt.catalog.models import FirmwareRelease


def _urls(advisory: Advisory) -> dict[str, str]:
    pid = advisory.public_id
    return {
        "list": reverse("desk:advisories:list"),
        "create": reverse("desk:advisories:create"),
        "detail": reverse("desk:advisories:detail", args=[pid]),
        "edit": reverse("desk:advisories:edit", args=[pid]),
        "preview": reverse("desk:advisories:preview", args=[pid]),
        "action": reverse("desk:advisories:action", args=[pid]),
        "facts": reverse("desk:advisories:facts", args=[pid]),
        "policy": reverse("desk:advisories:policy"),
    }


# Expected status per persona for every desk URL (GET, except "action": POST of a harmless unknown op
# for those who may see the advisory → 404 too, so a refused POST is tested with "submit" below).
MATRIX = {
    "lead": {"list": 200, "create": 200, "detail": 200, "edit": 200, "preview": 200, "policy": 200},
    "handler": {"list": 200, "create": 200, "detail": 200, "edit": 200, "preview": 200, "policy": 404},
    "other_handler": {
        "list": 200,
        "create": 200,
        "detail": 404,
        "edit": 404,
        "preview": 404,
        "action": 404,
        "facts": 404,
        "policy": 404,
    },
    "engineer": {
        "list": 404,
        "create": 404,
        "detail": 404,
        "edit": 404,
        "preview": 404,
        "action": 404,
        "facts": 404,
        "policy": 404,
    },
    "anonymous": {
        "list": 302,
        "create": 302,
        "detail": 302,
        "edit": 302,
        "preview": 302,
        "action": 302,
        "facts": 302,
        "policy": 302,
    },
}


def test_every_desk_url_is_in_the_access_matrix(draft: Advisory) -> None:
    from psirt.advisories.urls import desk_urlpatterns

    names = {p.name for p in desk_urlpatterns}
    assert names == set(_urls(draft))
    assert all(set(row) <= names for row in MATRIX.values())


@pytest.mark.parametrize("persona", list(MATRIX))
def test_access_matrix(persona: str, draft: Advisory, request: pytest.FixtureRequest) -> None:
    user = None if persona == "anonymous" else request.getfixturevalue(persona)
    client = client_for(user)
    urls = _urls(draft)
    for name, expected in MATRIX[persona].items():
        post = name in ("action", "facts")
        response = client.post(urls[name], {"op": "submit"}) if post else client.get(urls[name])
        assert response.status_code == expected, (persona, name, response.status_code)
        if expected == 404:
            assert draft.advisory_id not in response.content.decode()
    draft.refresh_from_db()
    assert draft.state == AdvisoryState.DRAFT


def test_refused_access_is_audited(draft: Advisory, other_handler: User) -> None:
    client_for(other_handler).get(_urls(draft)["detail"])
    assert AuditEvent.objects.filter(action="advisory.access_denied", actor=other_handler).exists()


def test_handler_sees_only_advisories_of_their_cases(
    draft: Advisory, as_handler: Client, as_other_handler: Client
) -> None:
    assert draft.advisory_id in as_handler.get(_urls(draft)["list"]).content.decode()
    assert draft.advisory_id not in as_other_handler.get(_urls(draft)["list"]).content.decode()


def test_author_an_advisory_from_a_case_to_publication(
    case: Case, releases: dict[str, FirmwareRelease], as_handler: Client, as_lead: Client, anonymous: Client
) -> None:
    CaseReference.objects.create(case=case, kind="cve", value="CVE-2026-4242")
    create = reverse("desk:advisories:create")
    page = as_handler.get(create, {"case": str(case.public_id)}).content.decode()
    assert case.key in page and "checked" in page
    response = as_handler.post(create, {"cases": [str(case.public_id)]})
    assert response.status_code == 302
    advisory = Advisory.objects.get()
    urls = _urls(advisory)
    data = {
        "title_en": "Command injection in the web UI",
        "title_zh": "网页界面命令注入",
        "summary_en": "An attacker on the network runs commands.",
        # The facts come from the case (read-only): what a crafted form sends for them is ignored.
        "exploitation": "none",
        "cvss31_vector": "CVSS:3.1/AV:L/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N",
        "identifiers": "CVE-2026-9999",
        "affected-TOTAL_FORMS": "2",
        "affected-INITIAL_FORMS": "0",
        "affected-0-product": "cam-x5",
        "affected-0-introduced": "v5.5.0",
        "affected-0-fixed": "V5.6.0",
        "affected-1-product": "",
    }
    response = as_handler.post(urls["edit"], data)
    assert response.status_code == 302, response.content.decode()[:3000]
    advisory.refresh_from_db()
    assert advisory.identifier_list == ["CVE-2026-4242"]
    assert advisory.cvss31_vector == "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
    row = advisory.affected.get()
    assert (row.introduced, row.fixed) == (releases["V5.5.0"], releases["V5.6.0"])
    preview = as_handler.get(urls["preview"]).content.decode()
    assert "Command injection in the web UI" in preview and "Preview" in preview
    as_handler.post(urls["action"], {"op": "submit"})
    # A handler cannot approve: the refusal comes back as a message, nothing changes.
    as_handler.post(urls["action"], {"op": "approve"})
    advisory.refresh_from_db()
    assert advisory.state == AdvisoryState.IN_REVIEW
    as_lead.post(urls["action"], {"op": "approve"})
    response = as_lead.post(urls["action"], {"op": "publish"}, follow=True)
    assert "Published." in response.content.decode()
    advisory.refresh_from_db()
    assert advisory.state == AdvisoryState.PUBLISHED
    public = anonymous.get(advisory.get_absolute_url()).content.decode()
    assert "Command injection in the web UI" in public and "Preview" not in public


def test_preview_is_the_public_page(published: Advisory, as_lead: Client, anonymous: Client) -> None:
    def main(html: str) -> str:
        body = html.split('<main id="main"', 1)[1].split("</main>", 1)[0]
        body = re.sub(r'<div class="callout callout-info" role="note">.*?</div>', "", body, flags=re.S)
        return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", body)

    preview = as_lead.get(_urls(published)["preview"]).content.decode()
    public = anonymous.get(published.get_absolute_url()).content.decode()
    assert main(preview) == main(public)


def test_edit_errors_keep_what_was_typed(draft: Advisory, as_lead: Client) -> None:
    response = as_lead.post(
        _urls(draft)["edit"],
        {
            "title_en": "Typed title",
            "exploitation": "none",
            "cvss31_vector": "CVSS:3.1/AV:Z",
            "affected-TOTAL_FORMS": "1",
            "affected-INITIAL_FORMS": "0",
            "affected-0-product": "cam-x5",
            "affected-0-fixed": "V9.9.9",
        },
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "Typed title" in html
    assert "has no release V9.9.9" in html


def test_published_edit_needs_a_revision_summary(published: Advisory, as_lead: Client) -> None:
    data = {
        "title_en": published.title_en,
        "exploitation": "none",
        "affected-TOTAL_FORMS": "1",
        "affected-INITIAL_FORMS": "0",
        "affected-0-product": "cam-x5",
        "affected-0-introduced": "V5.5.0",
        "affected-0-fixed": "V5.6.0",
    }
    response = as_lead.post(_urls(published)["edit"], data)
    assert "Say what changed" in response.content.decode()
    response = as_lead.post(_urls(published)["edit"], {**data, "revision_summary_en": "Scores removed."})
    assert response.status_code == 302
    # Saved as the open revision, not published: the advisory keeps its one revision until review.
    assert published.revisions.count() == 1
    assert published.pending_revision.summary_en == "Scores removed."
    for op in ("submit", "approve", "publish"):
        assert as_lead.post(_urls(published)["action"], {"op": op}).status_code == 302
    assert published.revisions.count() == 2


def test_unknown_action_is_404(draft: Advisory, as_lead: Client) -> None:
    assert as_lead.post(_urls(draft)["action"], {"op": "explode"}).status_code == 404
    assert as_lead.get(_urls(draft)["action"]).status_code == 405


def test_admin_shows_advisories_read_only_to_leads(published: Advisory, as_lead: Client, as_handler: Client) -> None:
    url = f"/admin/advisories/advisory/{published.pk}/change/"
    assert as_lead.get("/admin/advisories/advisory/").status_code == 200
    page = as_lead.get(url)
    assert page.status_code == 200 and published.advisory_id in page.content.decode()
    as_lead.post(url, {"title_en": "Changed in the admin"})
    published.refresh_from_db()
    assert published.title_en != "Changed in the admin"
    assert as_handler.get("/admin/advisories/advisory/").status_code != 200

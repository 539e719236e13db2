"""A published advisory changes only through a reviewed revision: the edit is kept apart from the published
version, goes through the same review, lead approval (or expedited approval) and publication gate as a first
publication, and only its publication changes what customers see."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from conftest import client_for
from psirt.accounts.models import User
from psirt.advisories import services
from psirt.advisories.csaf import documents
from psirt.advisories.exceptions import (
    InvalidInput,
    LeadApprovalRequired,
    NotAllowed,
    PublicationRefused,
    TransitionNotAllowed,
)
from psirt.advisories.models import Advisory, AdvisoryState, PendingRevision
from psirt.advisories.signals import advisory_published
from psirt.advisories.tests.conftest import approve, make_case, state_on_cases
from psirt.audit.models import AuditEvent
from psirt.catalog.models import FirmwareRelease, Product

NEW_IMPACT = "An attacker takes full control of the camera."
SUMMARY = "Impact described; fixed release for X5-200 added."


def _public_surfaces(client: Client, advisory: Advisory) -> dict[str, Any]:
    """What customers and machines read about `advisory`: page (both languages), list, Atom feed, API, CSAF."""
    aid = advisory.advisory_id
    csaf = client.get(f"/api/v1/advisories/{aid}/csaf")
    api = client.get(f"/api/v1/advisories/{aid}")
    assert csaf.status_code == 200 and api.status_code == 200
    return {
        "page_en": client.get(f"/en/advisories/{aid}/").content.decode(),
        "page_zh": client.get(f"/zh-hans/advisories/{aid}/").content.decode(),
        "list": client.get("/en/advisories/").content.decode(),
        "atom": client.get("/feeds/advisories.atom").content.decode(),
        "api": json.loads(api.content),
        "csaf": json.loads(csaf.content),
    }


@pytest.fixture
def announced() -> Iterator[list[int]]:
    """The revision numbers announced to the apps above (subscribers, webhooks)."""
    seen: list[int] = []

    def receiver(sender: Any, revision: int, **kwargs: Any) -> None:
        seen.append(revision)

    advisory_published.connect(receiver, dispatch_uid="test-revisions")
    yield seen
    advisory_published.disconnect(dispatch_uid="test-revisions")


def _edit(advisory: Advisory, actor: User, **kwargs: Any) -> Advisory:
    kwargs.setdefault("changes", {"impact_en": NEW_IMPACT})
    kwargs.setdefault("revision_summary_en", SUMMARY)
    return services.update_advisory(advisory=advisory, actor=actor, **kwargs)


def test_an_edit_changes_nothing_public_until_the_revision_is_published(
    published: Advisory, lead: User, anonymous: Client, releases: dict[str, FirmwareRelease], announced: list[int]
) -> None:
    before = _public_surfaces(anonymous, published)
    announced.clear()
    _edit(
        published,
        lead,
        changes={"impact_en": NEW_IMPACT, "cvss31_vector": "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:L/I:L/A:N"},
        affected=[services.AffectedInput(product=releases["V5.5.0"].product, fixed=releases["V5.10.0"])],
        revision_summary_zh="补充影响说明。",
        notify=True,
    )
    published.refresh_from_db()
    assert published.impact_en == "" and published.severity == "Critical"
    assert published.revisions.count() == 1
    assert [r.fixed for r in published.affected.all()] == [releases["V5.6.0"]]
    assert _public_surfaces(anonymous, published) == before
    assert NEW_IMPACT not in str(before)
    assert announced == []
    # The case is rescored (the advisory's vector comes from it); review, a lead's approval, still nothing public.
    pending = services.open_revision(published)
    assert pending is not None
    state_on_cases(services.revised_advisory(published, pending), refresh=False)
    approve(published, lead)
    assert _public_surfaces(anonymous, published) == before
    services.publish_advisory(advisory=published, actor=lead)
    after = _public_surfaces(anonymous, published)
    assert NEW_IMPACT in after["page_en"] and NEW_IMPACT in json.dumps(after["api"])
    assert after["api"]["severity"].lower() == "medium"
    assert SUMMARY in after["atom"] and SUMMARY in after["page_en"] and "补充影响说明。" in after["page_zh"]
    tracking = after["csaf"]["document"]["tracking"]
    assert tracking["version"] == "2"
    assert [r["number"] for r in tracking["revision_history"]] == ["1", "2"]
    assert tracking["revision_history"][1]["summary"] == SUMMARY
    published.refresh_from_db()
    assert [r.fixed for r in published.affected.all()] == [releases["V5.10.0"]]
    assert not PendingRevision.objects.filter(advisory=published).exists()
    assert announced == [2]
    event = AuditEvent.objects.filter(action="advisory.revised").get()
    assert event.data["revision"] == 2 and "impact_en" in event.data["fields"]


def test_the_chinese_summary_is_in_the_translation_and_english_is_required(published: Advisory, lead: User) -> None:
    with pytest.raises(InvalidInput, match="Say what changed"):
        _edit(published, lead, revision_summary_en="", revision_summary_zh="只有中文。")
    _edit(published, lead, changes={"title_zh": "网页界面远程代码执行"}, revision_summary_zh="补充影响说明。")
    approve(published, lead)
    services.publish_advisory(advisory=published, actor=lead)
    english, chinese = documents.csaf_documents(Advisory.objects.get(pk=published.pk))
    assert english["document"]["tracking"]["revision_history"][-1]["summary"] == SUMMARY
    assert chinese is not None
    assert chinese["document"]["tracking"]["revision_history"][-1]["summary"] == "补充影响说明。"


def test_the_revision_continues_and_only_real_differences_are_kept(published: Advisory, lead: User) -> None:
    _edit(published, lead)
    # A second edit without a summary continues the open revision; a field set back to its published value
    # is no longer a change.
    _edit(published, lead, changes={"impact_en": "", "title_zh": "标题"}, revision_summary_en="")
    pending = PendingRevision.objects.get(advisory=published)
    assert pending.changes == {"title_zh": "标题"}
    assert pending.summary_en == SUMMARY
    assert PendingRevision.objects.count() == 1


def test_a_change_after_approval_needs_a_new_review(published: Advisory, lead: User) -> None:
    _edit(published, lead)
    approve(published, lead)
    _edit(published, lead, changes={"impact_en": "Different words."})
    assert PendingRevision.objects.get(advisory=published).state == AdvisoryState.DRAFT
    with pytest.raises(LeadApprovalRequired):
        services.publish_advisory(advisory=published, actor=lead)


def test_a_handler_cannot_approve_or_publish_a_revision(
    published: Advisory, handler: User, lead: User, anonymous: Client
) -> None:
    before = _public_surfaces(anonymous, published)
    _edit(published, handler)
    services.submit_for_review(advisory=published, actor=handler)
    with pytest.raises(NotAllowed):
        services.approve_advisory(advisory=published, actor=handler)
    with pytest.raises(NotAllowed):
        services.publish_advisory(advisory=published, actor=handler)
    with pytest.raises(NotAllowed):
        services.publish_revision(advisory=published, actor=handler)
    services.approve_advisory(advisory=published, actor=lead)
    # Approved by a lead, publishing the revision is still a lead's act.
    with pytest.raises(NotAllowed):
        services.publish_advisory(advisory=published, actor=handler)
    with pytest.raises(NotAllowed):
        services.approve_expedite(advisory=published, actor=handler)
    assert _public_surfaces(anonymous, published) == before
    services.publish_advisory(advisory=published, actor=lead)
    assert published.revisions.count() == 2


def test_an_unreviewed_revision_is_refused_by_the_publication_gate(published: Advisory, lead: User) -> None:
    _edit(published, lead)
    with pytest.raises(LeadApprovalRequired, match="must approve"):
        services.publish_advisory(advisory=published, actor=lead)
    services.submit_for_review(advisory=published, actor=lead)
    with pytest.raises(LeadApprovalRequired):
        services.publish_advisory(advisory=published, actor=lead)
    assert Advisory.objects.get(pk=published.pk).revisions.count() == 1


def test_the_gate_judges_the_revised_advisory(
    published: Advisory, lead: User, releases: dict[str, FirmwareRelease]
) -> None:
    """The policy's rules apply to the advisory as revised: a revision that removes the only fix and the
    mitigation is refused like a first publication without them."""
    _edit(
        published,
        lead,
        changes={"mitigation_sufficient": False},
        affected=[services.AffectedInput(product=releases["V5.5.0"].product)],
    )
    approve(published, lead)
    with pytest.raises(PublicationRefused, match="no fix and no sufficient mitigation"):
        services.publish_advisory(advisory=published, actor=lead)
    published.refresh_from_db()
    assert published.revisions.count() == 1 and published.affected.get().fixed == releases["V5.6.0"]


def test_an_urgent_correction_is_expedited_with_a_lead_approved_justification(
    product: Product, lead: User, handler: User, releases: dict[str, FirmwareRelease], announced: list[int]
) -> None:
    case = make_case(product=product, exploitation="active", assignee=handler)
    advisory = services.create_advisory(cases=[case], actor=lead)
    services.set_expedite_justification(advisory=advisory, actor=lead, justification="Exploited in the wild.")
    services.approve_expedite(advisory=advisory, actor=lead)
    services.publish_advisory(advisory=advisory, actor=lead, expedite=True)
    _edit(advisory, handler, notify=True)
    # The first publication's approval does not carry over to the revision.
    with pytest.raises(PublicationRefused, match="justification"):
        services.publish_advisory(advisory=advisory, actor=lead, expedite=True)
    services.set_expedite_justification(advisory=advisory, actor=handler, justification="The workaround was wrong.")
    with pytest.raises(LeadApprovalRequired, match="lead's approval"):
        services.publish_advisory(advisory=advisory, actor=lead, expedite=True)
    services.approve_expedite(advisory=advisory, actor=lead)
    pending = PendingRevision.objects.get(advisory=advisory)
    assert pending.expedite_approved_by == lead and pending.expedite_justification == "The workaround was wrong."
    advisory = services.publish_advisory(advisory=advisory, actor=lead, expedite=True)
    assert advisory.impact_en == NEW_IMPACT and advisory.revisions.count() == 2
    assert announced[-1] == 2
    assert AuditEvent.objects.get(action="advisory.revised").data["expedited"] is True


def test_a_minor_revision_does_not_notify(published: Advisory, lead: User, announced: list[int]) -> None:
    _edit(published, lead, notify=False)
    approve(published, lead)
    services.publish_advisory(advisory=published, actor=lead)
    assert announced == [] and published.revisions.count() == 2


def test_discard_leaves_the_published_advisory_untouched(
    published: Advisory, lead: User, handler: User, anonymous: Client, other_handler: User
) -> None:
    before = _public_surfaces(anonymous, published)
    _edit(published, handler)
    with pytest.raises(NotAllowed):
        services.discard_revision(advisory=published, actor=other_handler)
    services.discard_revision(advisory=published, actor=handler)
    assert not PendingRevision.objects.exists()
    assert _public_surfaces(anonymous, published) == before
    published.refresh_from_db()
    assert published.impact_en == "" and published.revisions.count() == 1
    assert AuditEvent.objects.filter(action="advisory.revision_discarded", actor=handler).exists()
    with pytest.raises(TransitionNotAllowed):
        services.discard_revision(advisory=published, actor=handler)
    # Without an open revision, review steps on a published advisory are refused.
    with pytest.raises(TransitionNotAllowed, match="no open revision"):
        services.submit_for_review(advisory=published, actor=handler)
    with pytest.raises(TransitionNotAllowed):
        services.publish_revision(advisory=published, actor=lead)


def test_withdrawn_advisories_cannot_be_revised(published: Advisory, lead: User, as_lead: Client) -> None:
    _edit(published, lead)
    services.withdraw_advisory(advisory=published, actor=lead, reason="Duplicate.")
    assert not PendingRevision.objects.exists()  # the open revision went with the withdrawal
    with pytest.raises(TransitionNotAllowed, match="withdrawn"):
        _edit(published, lead)
    with pytest.raises(TransitionNotAllowed):
        services.publish_revision(advisory=published, actor=lead)
    assert as_lead.get(reverse("desk:advisories:edit", args=[published.public_id])).status_code == 404
    assert not PendingRevision.objects.exists()


def test_revisions_are_numbered_in_order(published: Advisory, lead: User) -> None:
    for n, summary in enumerate(["Second.", "Third."], start=2):
        _edit(published, lead, changes={"impact_en": summary}, revision_summary_en=summary)
        approve(published, lead)
        services.publish_advisory(advisory=published, actor=lead)
        assert published.revisions.order_by("-number").first().number == n  # type: ignore[union-attr]
    english, _zh = documents.csaf_documents(Advisory.objects.get(pk=published.pk))
    history = english["document"]["tracking"]["revision_history"]
    assert [(r["number"], r["summary"]) for r in history][1:] == [("2", "Second."), ("3", "Third.")]
    assert english["document"]["tracking"]["version"] == "3"


def test_oversized_summary_is_refused(published: Advisory, lead: User) -> None:
    with pytest.raises(InvalidInput, match="too long"):
        _edit(published, lead, revision_summary_en="x" * 501)
    with pytest.raises(InvalidInput, match="too long"):
        _edit(published, lead, revision_summary_zh="字" * 501)
    assert not PendingRevision.objects.exists()


def test_bad_input_in_a_revision_is_refused_before_anything_is_kept(published: Advisory, lead: User) -> None:
    with pytest.raises(InvalidInput):
        _edit(published, lead, changes={"cvss31_vector": "CVSS:3.1/AV:X"})
    with pytest.raises(InvalidInput):
        _edit(published, lead, changes={"advisory_id": "EVIL-1"})
    with pytest.raises(InvalidInput):
        _edit(published, lead, changes={"exploitation": ["active"]})
    assert not PendingRevision.objects.exists()


# The desk.


def _desk(advisory: Advisory) -> dict[str, str]:
    pid = advisory.public_id
    return {
        "detail": reverse("desk:advisories:detail", args=[pid]),
        "edit": reverse("desk:advisories:edit", args=[pid]),
        "action": reverse("desk:advisories:action", args=[pid]),
    }


def _form(advisory: Advisory, **fields: str) -> dict[str, str]:
    data = {
        "title_en": advisory.title_en,
        "summary_en": advisory.summary_en,
        "workarounds_en": advisory.workarounds_en,
        "mitigation_sufficient": "on" if advisory.mitigation_sufficient else "",
        "cvss31_vector": advisory.cvss31_vector,
        "exploitation": advisory.exploitation,
        "affected-TOTAL_FORMS": "1",
        "affected-INITIAL_FORMS": "0",
        "affected-0-product": "cam-x5",
        "affected-0-introduced": "V5.5.0",
        "affected-0-fixed": "V5.6.0",
    }
    return {**data, **fields}


def test_desk_shows_the_open_revision_field_by_field_and_escapes_html(
    published: Advisory, as_handler: Client, as_lead: Client, anonymous: Client
) -> None:
    hostile = '<script>alert("x")</script> fixed'
    urls = _desk(published)
    response = as_handler.post(
        urls["edit"], _form(published, impact_en=NEW_IMPACT, title_en="Better title", revision_summary_en=hostile)
    )
    assert response.status_code == 302
    page = as_handler.get(urls["detail"]).content.decode()
    assert "Open revision" in page and "Draft" in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; fixed" in page and "<script>alert" not in page
    diff = page[page.index("revision-diff") :]
    assert NEW_IMPACT in diff and "Better title" in diff and published.title_en in diff
    # The summary field was untouched: not shown as a change.
    assert "summary (English)</th>" not in diff
    # The handler may send it for review but sees no approve or publish button.
    assert 'value="submit"' in page and 'value="approve"' not in page and 'value="publish"' not in page
    assert 'value="discard"' in page
    # The edit form shows the revision, not the published text.
    edit = as_handler.get(urls["edit"]).content.decode()
    assert NEW_IMPACT in edit and "&lt;script&gt;" in edit
    # Public page unchanged.
    assert NEW_IMPACT not in anonymous.get(f"/en/advisories/{published.advisory_id}/").content.decode()
    assert as_handler.post(urls["action"], {"op": "submit"}).status_code == 302
    assert as_handler.post(urls["action"], {"op": "approve"}).status_code == 302
    assert PendingRevision.objects.get().state == AdvisoryState.IN_REVIEW  # refused: not a lead
    lead_page = as_lead.get(urls["detail"]).content.decode()
    assert 'value="approve"' in lead_page
    as_lead.post(urls["action"], {"op": "approve"})
    assert 'value="publish"' in as_lead.get(urls["detail"]).content.decode()
    as_lead.post(urls["action"], {"op": "publish"})
    assert NEW_IMPACT in anonymous.get(f"/en/advisories/{published.advisory_id}/").content.decode()
    public = anonymous.get(f"/en/advisories/{published.advisory_id}/").content.decode()
    assert "&lt;script&gt;" in public and "<script>alert" not in public


def test_desk_in_both_languages(published: Advisory, lead: User, as_lead: Client) -> None:
    _edit(published, lead, revision_summary_zh="补充影响说明。")
    url = _desk(published)["detail"]
    assert url.startswith("/en/")
    english = as_lead.get(url).content.decode()
    chinese = as_lead.get(url.replace("/en/", "/zh-hans/", 1)).content.decode()
    assert "Open revision" in english and "Discard the revision" in english
    assert "待发布的修订" in chinese and "丢弃此修订" in chinese and "补充影响说明。" in chinese
    assert "Open revision" not in chinese


def test_desk_discard_and_return_to_draft(published: Advisory, lead: User, as_lead: Client) -> None:
    _edit(published, lead)
    urls = _desk(published)
    as_lead.post(urls["action"], {"op": "submit"})
    as_lead.post(urls["action"], {"op": "return", "reason": "Say which firmware."})
    assert PendingRevision.objects.get().state == AdvisoryState.DRAFT
    event = AuditEvent.objects.filter(action="advisory.returned").latest("id")
    assert event.data == {"reason": "Say which firmware.", "revision": True}
    as_lead.post(urls["action"], {"op": "discard"})
    assert not PendingRevision.objects.exists()
    published.refresh_from_db()
    assert published.state == AdvisoryState.PUBLISHED and published.impact_en == ""


@pytest.mark.parametrize("persona", ["other_handler", "engineer"])
def test_revision_desk_urls_are_404_without_access(
    persona: str, published: Advisory, lead: User, request: pytest.FixtureRequest
) -> None:
    _edit(published, lead)
    client = client_for(request.getfixturevalue(persona))
    urls = _desk(published)
    assert client.get(urls["detail"]).status_code == 404
    assert client.get(urls["edit"]).status_code == 404
    assert client.post(urls["edit"], _form(published, revision_summary_en="Mine.")).status_code == 404
    for op in ("submit", "approve", "publish", "discard"):
        assert client.post(urls["action"], {"op": op}).status_code == 404
    pending = PendingRevision.objects.get()
    assert pending.state == AdvisoryState.DRAFT and pending.summary_en == SUMMARY


def test_revision_desk_urls_redirect_anonymous_to_sign_in(published: Advisory, lead: User, anonymous: Client) -> None:
    _edit(published, lead)
    urls = _desk(published)
    assert anonymous.get(urls["detail"]).status_code == 302
    assert anonymous.post(urls["action"], {"op": "discard"}).status_code == 302
    assert PendingRevision.objects.exists()


def test_preview_shows_the_page_as_the_revision_will_make_it(
    published: Advisory,
    lead: User,
    as_lead: Client,
    as_other_handler: Client,
    anonymous: Client,
    releases: dict[str, FirmwareRelease],
) -> None:
    _edit(
        published,
        lead,
        affected=[services.AffectedInput(product=releases["V5.5.0"].product, fixed=releases["V5.10.0"])],
    )
    url = reverse("desk:advisories:preview", args=[published.public_id])
    revised = as_lead.get(url, {"revision": "1"}).content.decode()
    assert NEW_IMPACT in revised and SUMMARY in revised and "V5.10.0" in revised
    assert "once the open revision is published" in revised
    # Without ?revision=1 the preview is the published page; the public page is unchanged.
    current = as_lead.get(url).content.decode()
    assert NEW_IMPACT not in current and SUMMARY not in current
    public = anonymous.get(f"/en/advisories/{published.advisory_id}/").content.decode()
    assert NEW_IMPACT not in public and "V5.10.0" not in public
    assert as_other_handler.get(url, {"revision": "1"}).status_code == 404

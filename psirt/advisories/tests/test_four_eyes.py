"""Four eyes: with two or more active leads (and the publication policy's `four_eyes` on, the default), a lead
does not approve the advisory or revision they wrote, nor the expedite justification they wrote."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from conftest import _make_user, client_for
from psirt.accounts.models import Role, User
from psirt.advisories import services
from psirt.advisories.exceptions import InvalidInput, NotAllowed
from psirt.advisories.models import Advisory, AdvisoryState
from psirt.advisories.tests.conftest import publish, state_on_cases
from psirt.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def second_lead(db: None) -> User:
    return _make_user("second-lead@persona.test", Role.LEAD)


def test_the_author_cannot_approve_their_own_advisory_with_two_leads(
    draft: Advisory, lead: User, second_lead: User
) -> None:
    services.submit_for_review(advisory=draft, actor=lead)
    with pytest.raises(NotAllowed, match="another lead must approve"):
        services.approve_advisory(advisory=draft, actor=lead)
    draft.refresh_from_db()
    assert draft.state == AdvisoryState.IN_REVIEW and draft.approved_by is None
    assert not AuditEvent.objects.filter(action="advisory.approved").exists()
    services.approve_advisory(advisory=draft, actor=second_lead)
    draft.refresh_from_db()
    assert draft.state == AdvisoryState.APPROVED and draft.approved_by == second_lead


def test_a_lone_lead_still_approves_their_own(draft: Advisory, lead: User) -> None:
    services.submit_for_review(advisory=draft, actor=lead)
    services.approve_advisory(advisory=draft, actor=lead)
    draft.refresh_from_db()
    assert draft.state == AdvisoryState.APPROVED


def test_an_inactive_second_lead_does_not_count(draft: Advisory, lead: User, second_lead: User) -> None:
    second_lead.is_active = False
    second_lead.save()
    services.submit_for_review(advisory=draft, actor=lead)
    services.approve_advisory(advisory=draft, actor=lead)
    draft.refresh_from_db()
    assert draft.state == AdvisoryState.APPROVED


def test_the_setting_turns_four_eyes_off_and_is_audited(draft: Advisory, lead: User, second_lead: User) -> None:
    services.set_publication_policy(actor=lead, four_eyes=False)
    event = AuditEvent.objects.filter(action="publication_policy.changed").latest("id")
    assert event.data["four_eyes"] is False and event.data["changed"] == ["four_eyes"]
    services.submit_for_review(advisory=draft, actor=lead)
    services.approve_advisory(advisory=draft, actor=lead)
    draft.refresh_from_db()
    assert draft.state == AdvisoryState.APPROVED


@pytest.mark.parametrize("value", ["no", 0, None, "false", ["x"]])
def test_the_setting_is_a_boolean(lead: User, value: object) -> None:
    with pytest.raises(InvalidInput):
        services.set_publication_policy(actor=lead, four_eyes=value)
    assert services.current_policy().four_eyes is True


def test_only_a_lead_changes_the_setting(handler: User) -> None:
    with pytest.raises(NotAllowed):
        services.set_publication_policy(actor=handler, four_eyes=False)


def test_the_writer_of_an_expedite_justification_cannot_approve_it(
    draft: Advisory, lead: User, second_lead: User
) -> None:
    services.set_expedite_justification(advisory=draft, actor=lead, justification="Exploited in the wild.")
    draft.refresh_from_db()
    assert draft.expedite_requested_by == lead
    with pytest.raises(NotAllowed, match="you wrote this justification"):
        services.approve_expedite(advisory=draft, actor=lead)
    draft.refresh_from_db()
    assert draft.expedite_approved_by is None
    services.approve_expedite(advisory=draft, actor=second_lead)
    draft.refresh_from_db()
    assert draft.expedite_approved_by == second_lead
    # The second lead rewrites it: the approval goes, and now the first lead may approve it (not the second).
    services.set_expedite_justification(advisory=draft, actor=second_lead, justification="Public concern too.")
    with pytest.raises(NotAllowed):
        services.approve_expedite(advisory=draft, actor=second_lead)
    services.approve_expedite(advisory=draft, actor=lead)
    draft.refresh_from_db()
    assert draft.expedite_approved_by == lead


def test_a_handlers_justification_is_approved_by_any_lead(
    draft: Advisory, lead: User, handler: User, second_lead: User
) -> None:
    services.set_expedite_justification(advisory=draft, actor=handler, justification="Exploited in the wild.")
    services.approve_expedite(advisory=draft, actor=lead)
    draft.refresh_from_db()
    assert draft.expedite_approved_by == lead


def test_the_lead_who_opened_a_revision_cannot_approve_it(draft: Advisory, lead: User, second_lead: User) -> None:
    services.set_publication_policy(actor=lead, four_eyes=False)
    advisory = publish(draft, lead)
    services.set_publication_policy(actor=lead, four_eyes=True)
    services.update_advisory(
        advisory=advisory,
        actor=second_lead,
        changes={"workarounds_en": "Block port 80 and 443."},
        revision_summary_en="A second port to block.",
    )
    pending = services.open_revision(advisory)
    assert pending is not None and pending.created_by == second_lead
    state_on_cases(services.revised_advisory(advisory, pending), refresh=False)
    services.submit_for_review(advisory=advisory, actor=second_lead)
    with pytest.raises(NotAllowed, match="you opened this revision"):
        services.approve_advisory(advisory=advisory, actor=second_lead)
    # The advisory's author approves the revision another lead opened.
    services.approve_advisory(advisory=advisory, actor=lead)
    pending.refresh_from_db()
    assert pending.state == AdvisoryState.APPROVED and pending.approved_by == lead


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_desk_says_why_and_refuses_the_post(draft: Advisory, lead: User, second_lead: User, language: str) -> None:
    services.submit_for_review(advisory=draft, actor=lead)
    services.set_expedite_justification(advisory=draft, actor=lead, justification="Exploited in the wild.")
    client: Client = client_for(lead)
    url = reverse("desk:advisories:detail", args=[draft.public_id])
    action = reverse("desk:advisories:action", args=[draft.public_id])
    with translation.override(language):
        html = client.get(reverse("desk:advisories:detail", args=[draft.public_id])).content.decode()
    assert 'data-four-eyes="approve"' in html and 'data-four-eyes="expedite"' in html
    assert 'value="approve"' not in html and 'value="approve_expedite"' not in html
    if language == "zh-hans":
        assert "四眼原则" in html
    else:
        assert "another lead must approve" in html
    # A crafted POST is refused the same way.
    client.post(action, {"op": "approve"})
    client.post(action, {"op": "approve_expedite"})
    draft.refresh_from_db()
    assert draft.state == AdvisoryState.IN_REVIEW and draft.expedite_approved_by is None
    # The other lead sees the buttons.
    other = client_for(second_lead).get(url).content.decode()
    assert 'value="approve"' in other and 'value="approve_expedite"' in other and "data-four-eyes" not in other

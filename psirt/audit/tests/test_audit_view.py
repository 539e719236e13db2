"""The desk's audit log page: leads only, filters, pagination, hostile query strings."""

from __future__ import annotations

import pytest
from django.urls import reverse

from psirt.audit.models import AuditEvent
from psirt.audit.services import record

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("persona", ["as_handler", "as_other_handler", "as_engineer"])
def test_non_leads_get_404(request, persona):
    assert request.getfixturevalue(persona).get(reverse("desk:audit")).status_code == 404


def test_anonymous_is_sent_to_sign_in(anonymous):
    response = anonymous.get(reverse("desk:audit"))
    assert response.status_code == 302
    assert response["Location"].startswith("/en/accounts/login/?next=")


@pytest.mark.parametrize("lang", ["en", "zh-hans"])
def test_lead_sees_events_newest_first(as_lead, lead, lang):
    record(action="user.role_changed", actor=lead, data={"from": "handler", "to": "lead"})
    record(action="token.created", actor=lead, data={"name": "ci"})
    response = as_lead.get(f"/{lang}/desk/audit/")
    assert response.status_code == 200
    body = response.content.decode()
    assert body.index("token.created") < body.index("user.role_changed")


def test_filter_by_action_and_family(as_lead, lead, handler):
    record(action="auth.sign_in", actor=lead)
    record(action="auth.sign_out", actor=handler)
    record(action="token.created", actor=handler)
    exact = as_lead.get(reverse("desk:audit"), {"action": "auth.sign_in"}).context["page"]
    assert [e.action for e in exact] == ["auth.sign_in"]
    family = as_lead.get(reverse("desk:audit"), {"action": "auth."}).context["page"]
    assert {e.action for e in family} == {"auth.sign_in", "auth.sign_out"}
    by_actor = as_lead.get(reverse("desk:audit"), {"actor": "handler@"}).context["page"]
    assert {e.action for e in by_actor} == {"auth.sign_out", "token.created"}


def test_pagination_and_bad_page_numbers(as_lead):
    AuditEvent.objects.all().delete()
    for i in range(60):
        record(action="test.event", data={"i": i})
    first = as_lead.get(reverse("desk:audit"))
    assert len(first.context["page"]) == 50
    assert "page=2" in first.content.decode()
    second = as_lead.get(reverse("desk:audit"), {"page": "2"})
    assert len(second.context["page"]) == 10 + AuditEvent.objects.count() - 60
    for bad in ["abc", "-1", "99999999999999999999999", "1e9", "%00"]:
        assert as_lead.get(reverse("desk:audit"), {"page": bad}).status_code == 200


def test_overlong_filter_gets_400_with_message(as_lead):
    response = as_lead.get(reverse("desk:audit"), {"actor": "x" * 10000})
    assert response.status_code == 400
    assert "errorlist" in response.content.decode()


def test_hostile_data_is_rendered_inert(as_lead):
    record(action="test.event", data={"email": "<script>alert(1)</script>"})
    response = as_lead.get(reverse("desk:audit"), {"action": "<script>alert(2)</script>"})
    body = response.content.decode()
    assert "<script>alert" not in body
    body = as_lead.get(reverse("desk:audit")).content.decode()
    assert "<script>alert(1)" not in body
    assert "&lt;script&gt;alert(1)" in body

"""The Django admin changes a webhook's address under the same rule as the desk's registration."""

from __future__ import annotations

import pytest

from psirt.notify.models import Webhook

pytestmark = pytest.mark.django_db


@pytest.fixture
def hook(lead):
    return Webhook.objects.create(name="SIEM", url="https://hooks.example.com/psirt", secret="s" * 40, created_by=lead)


def _change(client, hook, url):
    return client.post(
        f"/admin/notify/webhook/{hook.pk}/change/",
        {"name": hook.name, "url": url, "all_products": "on", "active": "on"},
    )


@pytest.mark.parametrize(
    "url",
    [
        "https://10.0.0.5/hook",
        "https://[2002:c0a8:0101::1]/hook",
        "https://169.254.169.254/latest/meta-data/",
        "https://user:pw@hooks.example.com/psirt",
        "http://hooks.example.com/psirt",
    ],
)
def test_admin_refuses_an_address_the_desk_refuses(as_lead, hook, url, settings):
    settings.PSIRT_WEBHOOK_ALLOW_PRIVATE = False
    settings.PSIRT_DEV = False
    response = _change(as_lead, hook, url)
    assert response.status_code == 200  # the form again, with the error
    assert "errornote" in response.content.decode() or "errorlist" in response.content.decode()
    hook.refresh_from_db()
    assert hook.url == "https://hooks.example.com/psirt"


def test_admin_saves_a_public_https_address(as_lead, hook, settings):
    settings.PSIRT_WEBHOOK_ALLOW_PRIVATE = False
    response = _change(as_lead, hook, "https://siem.example.org/in")
    assert response.status_code == 302
    hook.refresh_from_db()
    assert hook.url == "https://siem.example.org/in"
    assert hook.secret == "s" * 40


def test_non_leads_cannot_change_webhooks_in_the_admin(as_handler, hook):
    response = _change(as_handler, hook, "https://evil.example.net/")
    assert response.status_code in {302, 403, 404}
    hook.refresh_from_db()
    assert hook.url == "https://hooks.example.com/psirt"

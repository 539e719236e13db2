"""Every allauth page a person can reach renders inside the site's frame, in both languages, without
scripts (CSP) and without errors."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db

SIGNED_IN_PAGES = [
    "accounts/2fa/",
    "accounts/2fa/totp/deactivate/",
    "accounts/2fa/recovery-codes/generate/",
    "accounts/password/change/",
    "accounts/email/",
    "accounts/logout/",
    "accounts/reauthenticate/",
    "accounts/2fa/reauthenticate/",
]
ANONYMOUS_PAGES = [
    "accounts/login/",
    "accounts/signup/",
    "accounts/password/reset/",
    "accounts/password/reset/done/",
    "accounts/password/reset/key/1-bogus/",
    "accounts/password/reset/key/done/",
    "accounts/inactive/",
]


@pytest.mark.parametrize("lang", ["en", "zh-hans"])
@pytest.mark.parametrize("page", SIGNED_IN_PAGES)
def test_signed_in_account_pages_render_in_site_frame(as_handler, lang, page):
    response = as_handler.get(f"/{lang}/{page}", follow=True)
    assert response.status_code == 200
    body = response.content.decode()
    assert 'class="site-header"' in body
    assert "<script" not in body


@pytest.mark.parametrize("lang", ["en", "zh-hans"])
@pytest.mark.parametrize("page", ANONYMOUS_PAGES)
def test_anonymous_account_pages_render_in_site_frame(anonymous, lang, page):
    response = anonymous.get(f"/{lang}/{page}", follow=True)
    assert response.status_code == 200
    body = response.content.decode()
    assert 'class="site-header"' in body
    assert "<script" not in body


def test_recovery_codes_page_lists_codes(as_handler, handler):
    from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes

    codes = RecoveryCodes.activate(handler).generate_codes()
    body = as_handler.get("/en/accounts/2fa/recovery-codes/").content.decode()
    assert codes[0] in body


def test_bogus_reset_key_says_the_link_no_longer_works(anonymous):
    response = anonymous.get("/en/accounts/password/reset/key/zz-" + "x" * 3000 + "/", follow=True)
    assert response.status_code in (200, 404)
    if response.status_code == 200:
        assert "This link no longer works" in response.content.decode()

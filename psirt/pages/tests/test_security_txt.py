"""/.well-known/security.txt (RFC 9116): every field, a rolling Expires, the cleartext signature by the team key
(and an unsigned file without one), no field injection from hostile profile values, caching, the legacy address
and the team encryption key it points at."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pysequoia
import pytest
from django.test import Client
from django.utils import timezone

from psirt.formats.securitytxt import parse_security_txt
from psirt.lib import signing
from psirt.lib.config import ConfigError, load_config
from psirt.lib.tests.test_config import prod_env
from psirt.organization.models import OrganizationProfile
from psirt.organization.services import update_organization
from psirt.pages import security_txt

pytestmark = pytest.mark.django_db

URL = "/.well-known/security.txt"
BASE = "https://psirt.test"  # PSIRT_BASE_URL of psirt/settings_test.py
FIELDS = {
    "Contact",
    "Expires",
    "Encryption",
    "Acknowledgments",
    "Preferred-Languages",
    "Canonical",
    "Policy",
    "Hiring",
    "CSAF",
}


@pytest.fixture
def team_public_key() -> str:
    return str(pysequoia.Tsk.generate("Example PSIRT <psirt@example.com>").extract_certificate())


@pytest.fixture
def signing_key_file(settings: Any, tmp_path: Path) -> Path:
    path = tmp_path / "signing.asc"
    path.write_text(str(pysequoia.Tsk.generate("Example PSIRT signing <psirt@example.com>")), encoding="ascii")
    settings.PSIRT_SIGNING_KEY_FILE = str(path)
    return path


@pytest.fixture
def no_signing_key(settings: Any) -> None:
    settings.PSIRT_SIGNING_KEY_FILE = None
    settings.PSIRT_DEV = False


@pytest.fixture
def profile(team_public_key: str) -> OrganizationProfile:
    return update_organization(actor=None, security_email="psirt@acme.example", pgp_public_key=team_public_key)


def _get(client: Client, **headers: str) -> tuple[int, str, dict[str, str]]:
    response = client.get(URL, headers=headers)
    return response.status_code, response.content.decode("utf-8"), dict(response.headers)


def test_unsigned_file_has_every_field_with_the_right_values(
    client: Client, profile: OrganizationProfile, no_signing_key: None, settings: Any
) -> None:
    settings.PSIRT_HIRING_URL = "https://jobs.acme.example/security"
    status, body, headers = _get(client)
    assert status == 200
    assert headers["Content-Type"] == "text/plain; charset=utf-8"
    assert not body.startswith("-----BEGIN PGP SIGNED MESSAGE-----")
    fields = parse_security_txt(body)
    assert set(fields) == FIELDS
    assert fields["Contact"] == ["mailto:psirt@acme.example", f"{BASE}/en/report/"]
    assert fields["Encryption"] == [f"{BASE}/pgp-key.txt"]
    assert fields["Acknowledgments"] == [f"{BASE}/en/acknowledgments/"]
    assert fields["Preferred-Languages"] == ["en, zh"]
    assert fields["Canonical"] == [f"{BASE}/.well-known/security.txt"]
    assert fields["Policy"] == [f"{BASE}/en/policy/"]
    assert fields["Hiring"] == ["https://jobs.acme.example/security"]
    assert fields["CSAF"] == [f"{BASE}/.well-known/csaf/provider-metadata.json"]
    # Every page the file names exists (the CSAF tree is another module's and is checked there).
    for url in [*fields["Contact"][1:], *fields["Acknowledgments"], *fields["Policy"], *fields["Encryption"]]:
        assert client.get(url.removeprefix(BASE)).status_code == 200, url


def test_expires_rolls_and_stays_under_a_year(client: Client, profile: OrganizationProfile) -> None:
    _status, body, _headers = _get(client)
    (expires,) = parse_security_txt(body)["Expires"]
    moment = dt.datetime.fromisoformat(expires.replace("Z", "+00:00"))
    now = timezone.now()
    assert now + dt.timedelta(days=170) < moment < now + dt.timedelta(days=365)
    # Rounded to a day: the text (and its signature) is the same all day, and moves on the next day.
    morning = dt.datetime(2026, 3, 1, 0, 0, 1, tzinfo=dt.UTC)
    evening = dt.datetime(2026, 3, 1, 23, 59, 59, tzinfo=dt.UTC)
    assert security_txt.expires_for(morning) == security_txt.expires_for(evening)
    assert security_txt.expires_for(evening + dt.timedelta(seconds=2)) == security_txt.expires_for(
        evening
    ) + dt.timedelta(days=1)
    assert evening < security_txt.expires_for(evening) < evening + dt.timedelta(days=365)


def test_signed_file_verifies_with_the_signing_key_and_parses(
    client: Client, profile: OrganizationProfile, signing_key_file: Path
) -> None:
    status, body, headers = _get(client)
    assert status == 200
    assert body.startswith("-----BEGIN PGP SIGNED MESSAGE-----")
    key = signing.signing_key()
    signed_text = signing.verify_clearsigned(body, key.public_key)
    assert signed_text is not None
    assert parse_security_txt(signed_text) == parse_security_txt(body)
    assert set(parse_security_txt(body)) == FIELDS - {"Hiring"}
    # A changed byte breaks it; another key does not vouch for it.
    assert signing.verify_clearsigned(body.replace("psirt@acme.example", "evil@acme.example"), key.public_key) is None
    other = str(pysequoia.Tsk.generate("Other").extract_certificate())
    assert signing.verify_clearsigned(body, other) is None
    # The signature is made once per text: the next answer is the same bytes with the same tag.
    _status, again, again_headers = _get(client)
    assert again == body and again_headers["ETag"] == headers["ETag"]


def test_without_a_signing_key_the_file_is_served_unsigned(
    client: Client, profile: OrganizationProfile, no_signing_key: None
) -> None:
    assert not signing.signing_available()
    status, body, _headers = _get(client)
    assert status == 200 and body.startswith("Contact: mailto:psirt@acme.example\n")
    assert "PGP" not in body


def test_signed_and_unsigned_files_have_different_tags(
    client: Client, profile: OrganizationProfile, settings: Any, tmp_path: Path
) -> None:
    settings.PSIRT_SIGNING_KEY_FILE = None
    settings.PSIRT_DEV = False
    unsigned_tag = _get(client)[2]["ETag"]
    path = tmp_path / "k.asc"
    path.write_text(str(pysequoia.Tsk.generate("K")), encoding="ascii")
    settings.PSIRT_SIGNING_KEY_FILE = str(path)
    status, _body, headers = _get(client, if_none_match=unsigned_tag)
    assert status == 200 and headers["ETag"] != unsigned_tag


def test_conditional_get_answers_304_and_the_file_may_be_cached(client: Client, profile: OrganizationProfile) -> None:
    _status, _body, headers = _get(client)
    assert headers["ETag"].startswith('W/"')
    assert "public" in headers["Cache-Control"] and "max-age=3600" in headers["Cache-Control"]
    response = client.get(URL, headers={"if-none-match": headers["ETag"]})
    assert response.status_code == 304 and response.content == b""
    # A profile change is a new file at once, not after the cache time.
    update_organization(actor=None, security_email="security@acme.example")
    response = client.get(URL, headers={"if-none-match": headers["ETag"]})
    assert response.status_code == 200
    assert parse_security_txt(response.content.decode())["Contact"][0] == "mailto:security@acme.example"


def test_head_is_answered_and_post_is_refused(client: Client, profile: OrganizationProfile) -> None:
    assert client.head(URL).status_code == 200
    assert client.post(URL).status_code == 405


def test_legacy_location_redirects_to_the_well_known_file(client: Client) -> None:
    response = client.get("/security.txt")
    assert response.status_code == 301 and response["Location"] == URL


@pytest.mark.parametrize(
    "email",
    [
        "psirt@acme.example\nContact: https://evil.example/",
        "psirt@acme.example\r\nExpires: 2099-01-01T00:00:00Z",
        "psirt@acme.example\rHiring: https://evil.example/",
        "psirt@acme.example Policy: https://evil.example/",
        "not an address",
    ],
)
def test_a_hostile_profile_e_mail_adds_no_field(client: Client, profile: OrganizationProfile, email: str) -> None:
    # The profile form refuses these; a row written some other way (admin, SQL, an old import) must still not
    # be able to add a line to the file.
    OrganizationProfile.objects.filter(id=1).update(security_email=email)
    status, body, _headers = _get(client)
    assert status == 200
    assert "evil" not in body and "2099" not in body
    assert "\r" not in body
    fields = parse_security_txt(body)
    assert fields["Contact"] == [f"{BASE}/en/report/"]  # the report form stays reachable
    assert len(fields["Expires"]) == 1 and "Hiring" not in fields
    assert set(fields) <= FIELDS


def test_an_address_with_unusual_characters_is_percent_encoded_on_one_line(
    client: Client, profile: OrganizationProfile
) -> None:
    OrganizationProfile.objects.filter(id=1).update(security_email="psirt%team@acme.example")
    contact = parse_security_txt(_get(client)[1])["Contact"]
    assert contact[0] == "mailto:psirt%25team@acme.example"


@pytest.mark.parametrize(
    "hiring",
    ["https://jobs.acme.example/\nContact: mailto:evil@evil.example", "http://jobs.acme.example/", "javascript:x"],
)
def test_a_hostile_hiring_setting_is_left_out(
    client: Client, profile: OrganizationProfile, settings: Any, hiring: str
) -> None:
    settings.PSIRT_HIRING_URL = hiring
    status, body, _headers = _get(client)
    assert status == 200 and "evil" not in body
    assert "Hiring" not in parse_security_txt(body)


def test_hiring_is_listed_only_when_configured(client: Client, profile: OrganizationProfile, settings: Any) -> None:
    settings.PSIRT_HIRING_URL = ""
    assert "Hiring" not in parse_security_txt(_get(client)[1])


def test_over_plain_http_only_the_fields_rfc_9116_allows_remain(
    client: Client, profile: OrganizationProfile, settings: Any
) -> None:
    settings.PSIRT_BASE_URL = "http://127.0.0.1:8000"  # dev mode only; production refuses http
    status, body, _headers = _get(client)
    assert status == 200
    fields = parse_security_txt(body)
    assert fields["Contact"] == ["mailto:psirt@acme.example"]
    assert set(fields) == {"Contact", "Expires", "Preferred-Languages"}


def test_without_a_team_key_there_is_no_encryption_field_and_no_key_file(client: Client) -> None:
    update_organization(actor=None, security_email="psirt@acme.example", pgp_public_key="")
    assert "Encryption" not in parse_security_txt(_get(client)[1])
    response = client.get("/pgp-key.txt")
    assert response.status_code == 404
    assert b"report form" in response.content


def test_the_team_key_is_served_at_its_stable_address(
    client: Client, profile: OrganizationProfile, team_public_key: str
) -> None:
    response = client.get("/pgp-key.txt")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response.content.decode().strip() == team_public_key.strip()
    assert "PRIVATE" not in response.content.decode()
    again = client.get("/pgp-key.txt", headers={"if-none-match": response["ETag"]})
    assert again.status_code == 304


def test_hiring_url_setting_is_parsed_strictly(tmp_path: Path) -> None:
    assert load_config(prod_env(), base_dir=tmp_path).hiring_url == ""
    url = "https://jobs.example.com/security?team=psirt"
    assert load_config(prod_env(PSIRT_HIRING_URL=url), base_dir=tmp_path).hiring_url == url
    for bad in ["http://jobs.example.com/", "https://jobs.example.com/a b", "https://jobs.example.com/\nX: y", "jobs"]:
        with pytest.raises(ConfigError, match="PSIRT_HIRING_URL"):
            load_config(prod_env(PSIRT_HIRING_URL=bad), base_dir=tmp_path)


def test_signature_verifies_with_the_key_the_csaf_provider_publishes(
    client: Client, profile: OrganizationProfile, signing_key_file: Path, settings: Any, tmp_path: Path
) -> None:
    # A scanner's path: security.txt names the CSAF provider metadata, which names the public key; that published
    # key, fetched over HTTP, must vouch for the file.
    from psirt.advisories.csaf.provider import sync_provider

    settings.PSIRT_VAR_DIR = tmp_path
    sync_provider(full=True)
    body = _get(client)[1]
    (csaf,) = parse_security_txt(body)["CSAF"]
    metadata = client.get(csaf.removeprefix(BASE))
    assert metadata.status_code == 200
    (key,) = json.loads(metadata.getvalue())["public_openpgp_keys"]
    published = client.get(key["url"].removeprefix(BASE))
    assert published.status_code == 200
    public_key = published.getvalue().decode("ascii")
    assert signing.verify_clearsigned(body, public_key) is not None
    assert key["fingerprint"] == signing.signing_key().fingerprint


def test_a_missing_signing_key_is_logged_once_not_per_request(
    client: Client, profile: OrganizationProfile, no_signing_key: None, caplog: pytest.LogCaptureFixture
) -> None:
    security_txt._warned.clear()
    for _ in range(3):
        _get(client)
    warnings = [r for r in caplog.records if r.name == "psirt.pages.security_txt" and "unsigned" in r.getMessage()]
    assert len(warnings) == 1 and "PSIRT_SIGNING_KEY_FILE" in warnings[0].getMessage()

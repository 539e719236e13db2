from __future__ import annotations

import datetime
from types import SimpleNamespace

import pytest

from psirt.lib.redact import REDACTED, GunicornLogger, redact_url

TOKEN = "Xq3_vB9-kLmN0pQrStUvWxYz0123456789abcdefGHIJ"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (f"/en/r/{TOKEN}/", f"/en/r/{REDACTED}/"),
        (f"/zh-hans/r/{TOKEN}/files/", f"/zh-hans/r/{REDACTED}/files/"),
        (f"/en/subscribe/confirm/{TOKEN}/", f"/en/subscribe/confirm/{REDACTED}/"),
        (f"/subscribe/unsubscribe/{TOKEN}/", f"/subscribe/unsubscribe/{REDACTED}/"),
        (f"/en/accounts/password/reset/key/3-{TOKEN}/", f"/en/accounts/password/reset/key/{REDACTED}/"),
        (f"/api/v1/x?token={TOKEN}&page=2", f"/api/v1/x?token={REDACTED}&page=2"),
        ("/en/updates/nc-2100/?q=camera", "/en/updates/nc-2100/?q=camera"),
        ("/en/report/", "/en/report/"),
        # What staff search for is case data: redacted on the desk and the API, in any language, as Referer too.
        ("/en/desk/cases/?q=acme+camera+rce&page=2", f"/en/desk/cases/?q={REDACTED}&page=2"),
        ("/zh-hans/desk/inbox/?status=new&Q=%E5%BC%A0%E4%B8%89", f"/zh-hans/desk/inbox/?status=new&Q={REDACTED}"),
        ("https://psirt.example/en/desk/cases/?q=secret", f"https://psirt.example/en/desk/cases/?q={REDACTED}"),
        (
            "/api/v1/cases?search=ada%40lab&query=x&term=y",
            f"/api/v1/cases?search={REDACTED}&query={REDACTED}&term={REDACTED}",
        ),
        ("/en/desk/cases/?page=2&sort=key", "/en/desk/cases/?page=2&sort=key"),
        ("/en/advisories/?q=camera", "/en/advisories/?q=camera"),
        ("/en/desk/cases/?faq=1", "/en/desk/cases/?faq=1"),
    ],
)
def test_secrets_in_urls_are_redacted_and_the_rest_kept(raw: str, expected: str) -> None:
    assert redact_url(raw) == expected


def test_gunicorn_access_log_never_holds_the_private_link() -> None:
    cfg = SimpleNamespace(
        errorlog="-",
        loglevel="info",
        accesslog="-",
        access_log_format='%(h)s "%(r)s" %(s)s "%(f)s"',
        syslog=False,
        capture_output=False,
        logconfig=None,
        logconfig_dict=None,
        logconfig_json=None,
        disable_redirect_access_to_syslog=False,
        user=0,
        group=0,
        umask=0,
        env={},
        statsd_host=None,
        dogstatsd_tags="",
        statsd_prefix="",
    )
    logger = GunicornLogger.__new__(GunicornLogger)
    logger.cfg = cfg
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": f"/en/r/{TOKEN}/",
        "PATH_INFO": f"/en/r/{TOKEN}/",
        "QUERY_STRING": "",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_REFERER": f"https://psirt.test/en/r/{TOKEN}/",
    }
    resp = SimpleNamespace(status="200 OK", sent=10, headers=[])
    req = SimpleNamespace(headers=[("REFERER", f"https://psirt.test/en/r/{TOKEN}/")])
    atoms = logger.atoms(resp, req, environ, datetime.timedelta(milliseconds=5))
    line = cfg.access_log_format % atoms
    assert TOKEN not in line and TOKEN not in atoms["{referer}i"]
    assert REDACTED in line


def test_gunicorn_access_log_never_holds_a_desk_search() -> None:
    logger = GunicornLogger.__new__(GunicornLogger)
    logger.cfg = SimpleNamespace(access_log_format="", env={})
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": "/en/desk/cases/?q=Acme+doorbell&page=2",
        "PATH_INFO": "/en/desk/cases/",
        "QUERY_STRING": "q=Acme+doorbell&page=2",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_REFERER": "https://psirt.test/en/desk/cases/?q=Acme+doorbell",
    }
    resp = SimpleNamespace(status="200 OK", sent=10, headers=[])
    req = SimpleNamespace(headers=[("REFERER", environ["HTTP_REFERER"])])
    atoms = logger.atoms(resp, req, environ, datetime.timedelta(milliseconds=5))
    for name in ("r", "U", "q", "{referer}i"):
        assert "Acme" not in atoms[name], name
    assert atoms["q"] == f"q={REDACTED}&page=2"
    # A public search keeps its words: they are not confidential and help to read the log.
    environ.update(RAW_URI="/en/advisories/?q=camera", PATH_INFO="/en/advisories/", QUERY_STRING="q=camera")
    atoms = logger.atoms(resp, SimpleNamespace(headers=[]), environ, datetime.timedelta(milliseconds=5))
    assert atoms["q"] == "q=camera" and atoms["r"] == "GET /en/advisories/?q=camera HTTP/1.1"

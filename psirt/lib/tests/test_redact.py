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

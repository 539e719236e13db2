"""Fixtures of the intake tests: a small catalog, a valid report, OpenPGP keys."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from psirt.tests.factories import make_line, make_product, make_release

PCAP = b"\xd4\xc3\xb2\xa1\x02\x00\x04\x00" + b"\x00" * 16 + b"packet-bytes" * 10


@pytest.fixture
def catalog(db: None) -> dict[str, Any]:
    line = make_line(name_zh="网络摄像机", position=1)
    cam = make_product(line)
    nvr = make_product(line, "nvr-8", "Recorder 8")
    hidden = make_product(line, "proto-1", "Prototype", is_public=False)
    r1 = make_release(cam, "V5.5.0", 1)
    r2 = make_release(cam, "V5.6.1", 2)
    r_nvr = make_release(nvr, "V4.0.0", 1)
    return {"line": line, "cam": cam, "nvr": nvr, "hidden": hidden, "r1": r1, "r2": r2, "r_nvr": r_nvr}


def valid_post(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "reporter_name": "Ada Researcher",
        "reporter_email": "ada@research.test",
        "organization": "Lab 7",
        "phone": "+86 592 555 0100",
        "references": "CVE-2026-0001",
        "product": "cam-x5",
        "product_other": "",
        "release": "",
        "version": "V5.5.0 build 210318",
        "description": "Unauthenticated RCE in the web UI.",
        "technical_details": "POST /cgi-bin/x with a long header.",
        "exploit_public": "no",
        "public_exploit": "",
        "plans_to_publish": "yes",
        "disclosure_plans": "Talk at a conference.",
        "proposed_disclosure_date": (timezone.localdate() + dt.timedelta(days=90)).isoformat(),
        "credit": "Ada R.",
        "pgp_key": "",
        "accept_guidelines": "on",
        "website": "",
    }
    data.update(overrides)
    return data


def pcap_file(name: str = "capture.pcap", content: bytes = PCAP) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/vnd.tcpdump.pcap")


@pytest.fixture
def report_url() -> str:
    return "/en/report/"


@pytest.fixture
def public() -> Client:
    return Client()


@pytest.fixture(scope="session")
def reporter_key() -> Any:
    """An OpenPGP key pair of a reporter (secret part kept to decrypt the mail in the test)."""
    import pysequoia

    return pysequoia.Tsk.generate("Ada <ada@research.test>")


@pytest.fixture(scope="session")
def team_key() -> Any:
    import pysequoia

    return pysequoia.Tsk.generate("PSIRT <security@example.com>")

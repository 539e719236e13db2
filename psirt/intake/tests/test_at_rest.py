"""Encryption at rest: a copy of the database file and the attachment folder, without the key, reveals nothing typed.

A separate psirt process with a file-based SQLite database files a report through the real form (a marker in
every field, an attachment whose name and bytes carry it, a portal message), then this test reads the raw
bytes of every file psirt wrote: the database, its WAL, the attachment store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

MARKER = "ZQXJ7MARKER"
PHONE = "+86 8642 0975 3186"

SCRIPT = r"""
import json, os, re, sys
import django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
call_command("createcachetable", verbosity=0)
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from psirt.catalog.models import Product
import pysequoia

M = sys.argv[1]
key = pysequoia.Tsk.generate(M + " <k@x.test>").extract_certificate()
armored_key = str(key)
c = Client()
data = {
    "reporter_name": M + " name", "reporter_email": M.lower() + "@example.test", "organization": M + " org",
    "phone": sys.argv[2], "references": M + " refs", "product": "other", "product_other": M + " product",
    "release": "", "version": M + "-version", "description": M + " description", "technical_details": M + " tech",
    "exploit_public": "yes", "public_exploit": M + " exploit", "plans_to_publish": "yes",
    "disclosure_plans": M + " plans", "credit": M + " credit", "pgp_key": armored_key,
    "accept_guidelines": "on", "website": "",
    "attachments": [SimpleUploadedFile(M + "-poc.pcap", b"\xd4\xc3\xb2\xa1" + (M + " file bytes ").encode() * 50)],
}
# First a failed attempt (stash), then the real one.
bad = dict(data, description="")
r = c.post("/en/report/", bad)
assert r.status_code == 422, r.status_code
stash = re.search(r'name="stash" value="([^"]+)"', r.content.decode()).group(1)
keep = re.findall(r'name="keep" value="([^"]+)"', r.content.decode())
r = c.post("/en/report/", dict(data, attachments=[], stash=stash, keep=keep))
assert r.status_code == 302, r.content[:3000]
thanks = c.get("/en/report/thanks/").content.decode()
token = re.search(r"/en/r/([A-Za-z0-9_-]+)/", thanks).group(1)
r = c.post(f"/en/r/{token}/", {"action": "message", "body": M + " message",
           "attachments": [SimpleUploadedFile(M + "-more.txt", (M + " more").encode())]})
assert r.status_code == 302, r.status_code
r = c.post(f"/en/r/{token}/", {"action": "credit", "credit": M + " credit2"})
from psirt.intake.models import Report
report = Report.objects.get()
assert report.description == M + " description" and report.attachments.count() == 2
key_line = [l for l in armored_key.splitlines() if len(l) > 60][1]
print(json.dumps({"key_line": key_line, "token": token}))
"""


def test_database_and_storage_reveal_nothing_typed(tmp_path: Path) -> None:
    var = tmp_path / "var"
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PSIRT_", "DATABASE_URL", "SECRET_KEY", "DJANGO_SETTINGS", "EMAIL_URL"))
    }
    env.update(
        {
            "PSIRT_DEV": "1",
            "PSIRT_VAR_DIR": str(var),
            "DATABASE_URL": f"sqlite:///{var / 'psirt.sqlite3'}",
            "EMAIL_URL": "locmem:",
            "DJANGO_SETTINGS_MODULE": "psirt.settings",
            "LOG_LEVEL": "DEBUG",
        }
    )
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, MARKER, PHONE],
        env=env,
        capture_output=True,
        timeout=120,
        cwd=str(Path(__file__).resolve().parents[3]),
    )
    assert result.returncode == 0, result.stderr.decode()[-3000:]
    info = json.loads(result.stdout.decode().strip().splitlines()[-1])
    needles = [
        MARKER.encode(),
        MARKER.lower().encode(),
        PHONE.encode(),
        info["key_line"].encode(),
        info["token"].encode(),
    ]
    written = [p for p in var.rglob("*") if p.is_file() and p.name not in {"secret_key", "encryption_key"}]
    assert any(p.name == "psirt.sqlite3" for p in written)
    assert len([p for p in written if p.suffix == ".enc"]) == 2  # both attachments, encrypted
    leaks = [(str(p.relative_to(var)), n.decode()) for p in written for n in needles if n in p.read_bytes()]
    assert leaks == []
    # Nor does anything the process logged (at DEBUG level).
    assert MARKER.encode() not in result.stderr and info["token"].encode() not in result.stderr

"""The example reverse-proxy configuration shipped in deploy/nginx.conf: valid for nginx, and keeping the rules
psirt relies on (the client's address, timeouts for slow clients, no plaintext in nginx's temporary files)."""

from __future__ import annotations

import datetime
import re
import shutil
import subprocess
from pathlib import Path

from django.conf import settings

CONF = Path(settings.BASE_DIR) / "deploy" / "nginx.conf"


def directives(text: str) -> dict[str, list[str]]:
    """Every simple directive's name and its arguments, comments removed (the last one wins per name)."""
    text = re.sub(r"#[^\n]*", "", text)
    found: dict[str, list[str]] = {}
    for statement in re.split(r"[;{}]", text):
        words = statement.split()
        if words:
            found[words[0] if words[0] != "proxy_set_header" else f"proxy_set_header {words[1]}"] = words[1:]
    return found


def seconds(value: str) -> int:
    number, unit = re.fullmatch(r"(\d+)(s|m)?", value).groups()  # type: ignore[union-attr]
    return int(number) * (60 if unit == "m" else 1)


def test_the_proxy_sends_the_address_it_saw_and_nothing_the_client_wrote() -> None:
    conf = directives(CONF.read_text())
    assert conf["proxy_set_header X-Forwarded-For"] == ["X-Forwarded-For", "$remote_addr"]
    assert conf["proxy_set_header X-Forwarded-Proto"] == ["X-Forwarded-Proto", "$scheme"]
    assert conf["proxy_set_header Host"] == ["Host", "$host"]


def test_slow_clients_are_dropped_by_the_proxy() -> None:
    conf = directives(CONF.read_text())
    for name, limit in [("client_header_timeout", 30), ("client_body_timeout", 30), ("send_timeout", 60)]:
        assert seconds(conf[name][0]) <= limit, name
    assert conf["limit_conn"][0] == "per_client"


def test_no_report_or_attachment_lands_in_the_proxys_temporary_files() -> None:
    conf = directives(CONF.read_text())
    assert conf["proxy_request_buffering"] == ["off"]
    assert conf["proxy_max_temp_file_size"] == ["0"]


def test_the_body_limit_is_above_the_largest_report_psirt_accepts() -> None:
    conf = directives(CONF.read_text())
    limit = conf["client_max_body_size"][0]
    assert limit.endswith("m")
    assert int(limit[:-1]) > settings.PSIRT_MAX_ATTACHMENTS_TOTAL_MB


def _self_signed(directory: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "security.example.com")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


def test_nginx_accepts_the_configuration(tmp_path: Path) -> None:
    nginx = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")
    if nginx is None:
        # Without nginx (apt-get install nginx for the full check): blocks balanced, every statement ended.
        text = re.sub(r"#[^\n]*", "", CONF.read_text())
        depth = 0
        for char in text:
            depth += {"{": 1, "}": -1}.get(char, 0)
            assert depth >= 0
        assert depth == 0
        assert not re.split(r"[;{}]", text)[-1].strip()
        return
    cert, key = _self_signed(tmp_path)
    text = CONF.read_text()
    text = text.replace("/etc/ssl/certs/security.example.com.pem", str(cert))
    text = text.replace("/etc/ssl/private/security.example.com.key", str(key))
    conf = tmp_path / "nginx.conf"
    conf.write_text(text)
    proc = subprocess.run(
        [nginx, "-t", "-c", str(conf), "-p", str(tmp_path), "-g", f"pid {tmp_path}/nginx.pid; error_log stderr;"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert "syntax is ok" in proc.stderr

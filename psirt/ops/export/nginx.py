"""The example nginx configuration for an export (`deploy/nginx-static.conf`) made runnable in a given place: the
suite's crawl test and `bench/static.py` serve exports with it, so the file operators copy is the file measured
and tested."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

EXAMPLE = Path(settings.BASE_DIR) / "deploy" / "nginx-static.conf"


def example_config(*, root: Path, work: Path, port: int, app_url: str) -> str:
    """The example with `root` as the export, `work` for pid, logs and temporary files, listening on
    127.0.0.1:`port`, and `app_url` allowed as the forms' target. Each replaced text must be in the example."""
    text = EXAMPLE.read_text()
    replacements = {
        "pid /run/nginx-psirt-static.pid;": f"pid {work}/nginx.pid;",
        "error_log /var/log/nginx/psirt-static.error.log;": f"error_log {work}/error.log;",
        "access_log /var/log/nginx/psirt-static.access.log;": f"access_log {work}/access.log;",
        "/var/lib/nginx/": f"{work}/temp-",
        "listen 80;": f"listen 127.0.0.1:{port};",
        "root /srv/psirt-static;": f"root {root};",
        "https://app.security.example.com": app_url,
    }
    for old, new in replacements.items():
        if old not in text:
            raise ValueError(f"{EXAMPLE} no longer holds {old!r}: update psirt.ops.export.nginx with it.")
        text = text.replace(old, new)
    return text

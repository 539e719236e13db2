"""Start-up cost of every psirt process (server, worker, scheduler, each command): the document validators' libraries
are loaded when a document is validated, never at start-up, where most processes would pay for them for nothing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from psirt.tests.installation import installation_env

pytestmark = pytest.mark.processes

# Each costs a psirt process from a tenth of a second to over a second to import; rfc3987_syntax (an IRI grammar
# built at import, pulled by jsonschema's format extras) is not a dependency at all.
VALIDATOR_LIBRARIES = ("jsonschema", "csaf", "spdx_tools", "beartype", "rfc3987_syntax", "lark")

# What a starting server does: settings, apps, the URLconf with every view module, the WSGI handler and its
# middleware.
START = """
import sys, django
django.setup()
from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver
get_resolver().url_patterns
get_wsgi_application()
print(" ".join(sorted(name for name in sys.argv[1:] if name in sys.modules)))
"""


def test_a_starting_process_loads_no_validator_library(tmp_path: Path) -> None:
    env = installation_env(PSIRT_DEV="1", PSIRT_VAR_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="psirt.settings")
    done = subprocess.run(
        [sys.executable, "-c", START, *VALIDATOR_LIBRARIES], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split() == []

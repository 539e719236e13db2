"""Where the suite's official conformance data lives: `tests-data/conformance/` at the repository's top (its README
gives the provenance and licence of every file). The data ships with the repository, so no test skips for want of it."""

from pathlib import Path

CONFORMANCE = Path(__file__).resolve().parents[2] / "tests-data" / "conformance"
CSAF_20 = CONFORMANCE / "csaf" / "v2.0"
CVE = CONFORMANCE / "cve"
CVSS = CONFORMANCE / "cvss"

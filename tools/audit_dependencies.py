"""`make audit`: ask pip-audit which locked dependencies have known vulnerabilities, and say plainly what the
answer means.

Exit status:
  0  every dependency was checked and none has a vulnerability with a fixed release;
  1  a dependency has a known vulnerability with a fixed release: upgrade it (change the pin, `make lock`);
  3  the answer is incomplete: the vulnerability service could not be reached, or it knows nothing about some
     pinned releases (a private mirror, a release newer than its data). Nothing is proven safe.
With `--unreachable=warn` (what CI uses, where the service may be out of reach) status 3 becomes 0 after a loud
warning; a vulnerability with a fix still fails. A vulnerability without any fixed release is printed as a
warning: there is nothing to upgrade to, so it is for the team to weigh, not for CI to block on.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

OK, VULNERABLE, INCOMPLETE = 0, 1, 3

# What pip-audit prints when it cannot talk to the service (requests / urllib3 errors).
NETWORK_SIGNS = (
    "ConnectionError",
    "ConnectTimeout",
    "ReadTimeout",
    "Max retries exceeded",
    "Name or service not known",
    "Temporary failure in name resolution",
    "Connection refused",
    "Network is unreachable",
    "SSLError",
    "ServiceError",
)


@dataclass
class Verdict:
    status: int
    lines: list[str] = field(default_factory=list)


def verdict(report: str | None, stderr: str, *, unreachable: str = "fail") -> Verdict:
    """Judge one pip-audit run: its JSON report (None when it wrote none) and what it printed on stderr."""
    lines: list[str] = []
    data: dict[str, object] | None = None
    if report:
        try:
            loaded = json.loads(report)
        except ValueError:
            loaded = None
        data = loaded if isinstance(loaded, dict) else None
    if data is None:
        reached = not any(sign in stderr for sign in NETWORK_SIGNS)
        what = "pip-audit failed" if reached else "the vulnerability service could not be reached"
        lines.append(f"INCOMPLETE: {what}; no dependency was checked.")
        lines += [f"  {line}" for line in stderr.strip().splitlines()[-5:]]
        return _incomplete(lines, unreachable)
    fixable: list[str] = []
    unfixed: list[str] = []
    skipped: list[str] = []
    dependencies = data.get("dependencies")
    for dep in dependencies if isinstance(dependencies, list) else []:
        name = f"{dep.get('name')} {dep.get('version', '')}".strip()
        if dep.get("skip_reason"):
            skipped.append(f"{name}: {dep['skip_reason']}")
            continue
        for vuln in dep.get("vulns") or []:
            fixes = ", ".join(vuln.get("fix_versions") or [])
            ident = " / ".join([vuln.get("id", "?"), *vuln.get("aliases", [])])
            if fixes:
                fixable.append(f"{name}: {ident} (fixed in {fixes})")
            else:
                unfixed.append(f"{name}: {ident} (no fixed release yet)")
    for item in unfixed:
        lines.append(f"WARNING: known vulnerability without a fix: {item}")
    if fixable:
        lines += [f"VULNERABLE: {item}" for item in fixable]
        lines.append("Upgrade these pins (pyproject.toml, then `make lock`) and deploy.")
        return Verdict(VULNERABLE, lines)
    if skipped:
        lines.append(f"INCOMPLETE: {len(skipped)} dependencies could not be checked:")
        lines += [f"  {item}" for item in skipped]
        return _incomplete(lines, unreachable)
    lines.append(
        f"OK: {len(dependencies) if isinstance(dependencies, list) else 0} dependencies checked, "
        "no known vulnerability with a fix."
    )
    return Verdict(OK, lines)


def _incomplete(lines: list[str], unreachable: str) -> Verdict:
    if unreachable == "warn":
        lines.append("WARNING: the dependency audit is INCOMPLETE (allowed here by --unreachable=warn).")
        return Verdict(OK, lines)
    lines.append("The dependency audit is INCOMPLETE: run `make audit` again where the service is reachable.")
    return Verdict(INCOMPLETE, lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("requirements", nargs="+", help="lock files (with hashes)")
    parser.add_argument("--unreachable", choices=["fail", "warn"], default="fail")
    parser.add_argument("--pip-audit", default=str(Path(sys.executable).with_name("pip-audit")))
    args = parser.parse_args(argv)
    status = OK
    for requirements in args.requirements:
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "report.json"
            command = [
                args.pip_audit,
                "-r",
                requirements,
                "--require-hashes",
                "--disable-pip",
                "--progress-spinner",
                "off",
                "--format",
                "json",
                "--output",
                str(out),
            ]
            proc = subprocess.run(command, capture_output=True, text=True, timeout=600)  # noqa: S603
            report = out.read_text(encoding="utf-8") if out.exists() else None
        result = verdict(report, proc.stderr, unreachable=args.unreachable)
        print(f"== {requirements}")
        print("\n".join(result.lines))
        status = max(status, result.status, key=lambda code: {OK: 0, INCOMPLETE: 1, VULNERABLE: 2}[code])
    return status


if __name__ == "__main__":
    sys.exit(main())

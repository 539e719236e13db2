"""Start-up time of a psirt process: `psirt check` (settings, apps, URLconf with every view, the system checks),
against references measured in the same run, interleaved: a bare interpreter, `django.setup()` of psirt's
settings (apps and models only), and the import of the document validators' libraries that psirt loads only
when it validates a document (what every process would pay if they were imported at start-up).

    .venv/bin/python bench/startup.py [--quick] [--runs N]

Ends with one line: RESULT check_ms=… setup_ms=… python_ms=… validators_ms=… check_over_setup=… loaded_at_start=…
(medians; loaded_at_start counts the validator libraries a starting process imported, and must be 0)."""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VALIDATORS = ("jsonschema", "csaf", "spdx_tools", "beartype", "rfc3987_syntax", "lark")

COMMANDS = {
    "python": ["-c", "pass"],
    "setup": ["-c", "import django; django.setup()"],
    "check": ["-m", "psirt.cli", "check"],
    "validators": ["-c", "import jsonschema, csaf.csaf.v20, spdx_tools.spdx.parser.jsonlikedict.json_like_dict_parser"],
}
LOADED = (
    "import sys; from psirt.cli import main; sys.argv = ['psirt', 'check']; main(); "
    "print('loaded:', *[m for m in {names} if m in sys.modules])"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="5 rounds instead of 15")
    parser.add_argument("--runs", type=int, default=0, help="rounds (each runs every command once)")
    args = parser.parse_args()
    runs = args.runs or (5 if args.quick else 15)
    with tempfile.TemporaryDirectory(prefix="psirt-bench-startup-") as var:
        env = dict(os.environ, PSIRT_DEV="1", PSIRT_VAR_DIR=var, DJANGO_SETTINGS_MODULE="psirt.settings")
        env.pop("DATABASE_URL", None)
        times: dict[str, list[float]] = {name: [] for name in COMMANDS}
        for _ in range(runs):
            for name, command in COMMANDS.items():
                began = time.perf_counter()
                subprocess.run([sys.executable, *command], env=env, cwd=ROOT, check=True, capture_output=True)
                times[name].append((time.perf_counter() - began) * 1000)
        code = LOADED.format(names=VALIDATORS)
        done = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, check=True, capture_output=True)
    [line] = [line for line in done.stdout.decode().splitlines() if line.startswith("loaded:")]
    loaded = line.split()[1:]
    ms = {name: statistics.median(values) for name, values in times.items()}
    for name, values in times.items():
        print(f"{name:>10}: median {ms[name]:7.0f} ms  min {min(values):7.0f} ms  ({runs} runs)")
    if loaded:
        print("loaded at start-up:", " ".join(loaded))
    print(f"load average {os.getloadavg()[0]:.1f}")
    print(
        f"RESULT check_ms={ms['check']:.0f} setup_ms={ms['setup']:.0f} python_ms={ms['python']:.0f} "
        f"validators_ms={ms['validators']:.0f} check_over_setup={ms['check'] / ms['setup']:.2f} "
        f"loaded_at_start={len(loaded)}"
    )


if __name__ == "__main__":
    main()

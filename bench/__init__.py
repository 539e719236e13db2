"""Benchmarks, each a script (`python bench/NAME.py`); a package only so that mypy names bench/csaf.py
`bench.csaf` instead of mistaking it for the `csaf` validator package."""

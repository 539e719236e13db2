"""Version ranges of C libraries whose versions are not semver, and of ecosystems univers knows."""

from __future__ import annotations

import pytest

from psirt.components.matching import c_version_key, in_ranges

OPENSSL = [{"introduced": "3.0.0"}, {"fixed": "3.0.14"}]


@pytest.mark.parametrize(
    ("name", "version", "events", "expected"),
    [
        ("openssl", "3.0.13", OPENSSL, True),
        ("openssl", "3.0.14", OPENSSL, False),
        ("openssl", "3.0.0", OPENSSL, True),
        ("openssl", "2.9.9", OPENSSL, False),
        ("openssl", "3.1.0", OPENSSL, False),
        ("openssl", "1.1.1w", [{"introduced": "1.1.1"}, {"fixed": "1.1.1x"}], True),
        ("openssl", "1.1.1x", [{"introduced": "1.1.1"}, {"fixed": "1.1.1x"}], False),
        ("busybox", "1.36.1", [{"introduced": "0"}, {"last_affected": "1.36.1"}], True),
        ("busybox", "1.36.10", [{"introduced": "0"}, {"last_affected": "1.36.1"}], False),
        ("busybox", "1.9.0", [{"introduced": "0"}, {"last_affected": "1.36.1"}], True),
        ("linux", "5.10.201", [{"introduced": "5.10.0"}, {"fixed": "5.10.210"}], True),
        ("linux", "5.10.210", [{"introduced": "5.10.0"}, {"fixed": "5.10.210"}], False),
        ("linux", "5.10.99", [{"introduced": "5.10.100"}, {"fixed": "5.10.210"}], False),
        ("linux", "5.15.1", [{"introduced": "5.10.0"}, {"fixed": "5.10.210"}], False),
        # events in any order are evaluated sorted, as OSV says
        ("linux", "5.10.201", [{"fixed": "5.10.210"}, {"introduced": "5.10.0"}], True),
        # two spans
        ("linux", "5.15.3", [{"introduced": "5.10.0"}, {"fixed": "5.10.210"}, {"introduced": "5.15.0"}], True),
        ("linux", "5.12.0", [{"introduced": "5.10.0"}, {"fixed": "5.10.210"}, {"introduced": "5.15.0"}], False),
    ],
)
def test_generic_c_versions(name: str, version: str, events: list[dict[str, str]], expected: bool) -> None:
    assert in_ranges("generic", name, version, events, []) is expected


def test_c_version_key_orders_numbers_as_numbers() -> None:
    ordered = ["1.2", "1.9.9", "1.10", "1.10.0a", "1.36.1", "1.36.10", "5.10.99", "5.10.201", "v5.11"]
    assert sorted(ordered, key=c_version_key) == ordered


def test_explicit_versions_and_unreadable_versions() -> None:
    assert in_ranges("generic", "lighttpd", "1.4.73", [], ["1.4.73"])
    assert not in_ranges("generic", "lighttpd", "1.4.74", [], ["1.4.73"])
    # npm's semver refuses "not-a-version": it matches nothing rather than everything
    assert not in_ranges("npm", "x", "not-a-version", [{"introduced": "0"}], [])


def test_ecosystem_schemes_from_univers() -> None:
    assert in_ranges("pypi", "requests", "2.31.0", [{"introduced": "2.0"}, {"fixed": "2.32.0"}], [])
    assert not in_ranges("pypi", "requests", "2.32.0", [{"introduced": "2.0"}, {"fixed": "2.32.0"}], [])
    assert in_ranges("pypi", "x", "2.0rc1", [{"introduced": "1.0"}, {"fixed": "2.0"}], [])
    assert in_ranges("deb", "openssl", "3.0.11-1~deb12u2", [{"introduced": "0"}, {"fixed": "3.0.13-1~deb12u1"}], [])

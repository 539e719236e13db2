"""Hypothesis over the CSAF importer, the parser of documents written by others: arbitrary JSON values, and the
official BSI example with one value anywhere replaced by an arbitrary one. Whatever it reads, the importer
answers with a result (imported, updated, unchanged or refused with its reasons) and never raises; a refused
document writes nothing. Bounded: a fixed number of examples, derandomized, no example database."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from psirt.advisories.csaf.importer import Refused, import_csaf, read_document
from psirt.advisories.models import Advisory
from psirt.tests.conformance import CSAF_20

pytestmark = pytest.mark.django_db

BSI = CSAF_20 / "examples" / "csaf" / "bsi-2022-0001.json"
FUZZ = settings(
    max_examples=40,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
OUTCOMES = {"imported", "updated", "unchanged", "refused"}

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=60),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=20), inner, max_size=4)),
    max_leaves=20,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            out += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            out += _paths(item, (*prefix, index))
    return out


def _replace(document: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    parent = document
    for step in path[:-1]:
        parent = parent[step]
    parent[path[-1]] = value
    return document


@pytest.fixture(autouse=True)
def _own_var_dir(settings: Any, tmp_path: Path) -> None:
    settings.PSIRT_VAR_DIR = tmp_path / "var"


def _import(document: Any) -> None:
    before = Advisory.objects.count()
    result = import_csaf(document=document, write_tree=False)
    assert result.outcome in OUTCOMES
    if result.outcome == "refused":
        assert result.messages and Advisory.objects.count() == before


@FUZZ
@given(document=json_values)
def test_arbitrary_json_is_answered(document: Any) -> None:
    _import(document)


BSI_PATHS = _paths(json.loads(BSI.read_text(encoding="utf-8")))


@FUZZ
@given(path=st.sampled_from(BSI_PATHS), value=json_values)
def test_a_real_document_with_one_value_changed_is_answered(path: tuple[Any, ...], value: Any) -> None:
    document = json.loads(BSI.read_text(encoding="utf-8"))
    _import(_replace(document, path, value))


@settings(max_examples=60, derandomize=True, database=None, deadline=None)
@given(data=st.binary(max_size=400))
def test_any_file_is_read_or_refused(data: bytes, tmp_path_factory: Any) -> None:
    path = tmp_path_factory.mktemp("csaf") / "doc.json"
    path.write_bytes(data)
    try:
        read_document(path)
    except Refused as exc:
        assert str(exc)

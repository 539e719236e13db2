"""The two data files of regulatory reporting, read once per process: the Single Reporting Platform's fields per
stage and track (`data/srp_fields.json`), and the 27 EU Member States with their coordinator CSIRTs
(`data/member_states.json`). Both are versioned; the platform and the designations change, the code does not.
How to update them: `docs/regulatory.md`."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.utils.translation import gettext_lazy as _

from psirt.lib.i18n import pick_language
from psirt.regulatory.clocks import Stage, Track

DATA_DIR = Path(__file__).resolve().parent / "data"
FIELD_STAGES = (Stage.EARLY_WARNING, Stage.NOTIFICATION, Stage.FINAL)
REQUIREMENTS = ("required", "carried", "optional", "not_asked", "required_if_known")
# A MIIT filing's fields (one: the report's text), under the version name its filings record.
MIIT_FIELDS_VERSION = "miit"
MIIT_FIELD_LABELS = {"report_text": _("MIIT report (Chinese)")}


@dataclass(frozen=True)
class SrpField:
    key: str
    label_en: str
    label_zh: str
    tracks: tuple[str, ...]
    stages: dict[str, str]  # stage → requirement code

    @property
    def label(self) -> str:
        return pick_language(self.label_en, self.label_zh)


@dataclass(frozen=True)
class MemberState:
    code: str
    name_en: str
    name_zh: str
    csirt: str

    @property
    def name(self) -> str:
        return pick_language(self.name_en, self.name_zh)


def _load(name: str) -> dict[str, Any]:
    with (DATA_DIR / name).open(encoding="utf-8") as fh:
        doc: dict[str, Any] = json.load(fh)
    return doc


@functools.cache
def srp_document() -> dict[str, Any]:
    doc = _load("srp_fields.json")
    for row in doc["fields"]:
        bad = {v for v in row["stages"].values() if v not in REQUIREMENTS}
        if (
            bad
            or set(row["stages"]) != set(FIELD_STAGES)
            or not set(row["tracks"]) <= {Track.VULNERABILITY, Track.INCIDENT}
        ):
            raise ValueError(f"srp_fields.json: field {row.get('key')!r} is malformed")
    return doc


def srp_version() -> str:
    return str(srp_document()["version"])


def fields_for(track: str, stage: str) -> list[SrpField]:
    """The platform's fields of one track's stage, in the platform's order, leaving out those it does not ask.
    An intermediate report asks for what the final report asks."""
    stage = Stage.FINAL if stage == Stage.INTERMEDIATE else stage
    out = []
    for row in srp_document()["fields"]:
        if track in row["tracks"] and row["stages"][stage] != "not_asked":
            out.append(
                SrpField(row["key"], row["label_en"], row["label_zh"], tuple(row["tracks"]), dict(row["stages"]))
            )
    return out


def requirement(field: SrpField, stage: str) -> str:
    """The effective requirement of a field at a stage: "carried" is required when the earlier stage required it
    (what was required once stays required), otherwise optional."""
    if stage == Stage.INTERMEDIATE:
        return "optional"
    code = field.stages[stage]
    if code != "carried":
        return code
    index = FIELD_STAGES.index(stage)  # type: ignore[arg-type]
    if index == 0:
        return "optional"
    return "required" if requirement(field, FIELD_STAGES[index - 1]) == "required" else "optional"


def field_label(key: str, fields_version: str) -> str | None:
    """The label of a filed field in the active language, read from the version of the fields the filing was made
    under; None when psirt does not hold that version (the platform's fields have changed since), and the label
    stored with the filing stands."""
    if fields_version == MIIT_FIELDS_VERSION:
        label = MIIT_FIELD_LABELS.get(key)
        return None if label is None else str(label)
    if fields_version != srp_version():
        return None
    row = next((row for row in srp_document()["fields"] if row["key"] == key), None)
    if row is None:
        return None
    return pick_language(str(row["label_en"]), str(row["label_zh"]))


def required_keys(track: str, stage: str) -> list[str]:
    return [f.key for f in fields_for(track, stage) if requirement(f, stage) == "required"]


@functools.cache
def member_states() -> tuple[MemberState, ...]:
    doc = _load("member_states.json")
    return tuple(MemberState(r["code"], r["name_en"], r["name_zh"], r["csirt"]) for r in doc["member_states"])


def member_state(code: str) -> MemberState | None:
    return next((m for m in member_states() if m.code == (code or "").upper()), None)


def member_state_choices() -> list[tuple[str, str]]:
    return [(m.code, m.name_en) for m in member_states()]

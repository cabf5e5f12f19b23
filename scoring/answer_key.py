"""A MIDI-B answer key (SQLite `answer_data`) → flat, columnar checks.

In: the answer key database. Out: an `AnswerKey`: one `KeyRow` per input instance and the checks
of all rows as parallel lists (row index, action, tag_ds, expected text, original value,
category), ready for vectorised judging. Values keep the key's own form: strings wrapped in
`<...>`, None where the key has null.
"""
from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ACTIONS = ("text_removed", "text_retained", "tag_retained", "text_notnull", "date_shifted",
           "uid_changed", "uid_consistent", "patid_consistent", "pixels_retained", "pixels_hidden")


@dataclass(frozen=True)
class KeyRow:
    index: int
    patient_id: str
    study_uid: str
    series_uid: str
    sop_uid: str
    modality: str


@dataclass
class AnswerKey:
    rows: list[KeyRow] = field(default_factory=list)
    row: list[int] = field(default_factory=list)  # check → index into rows
    action: list[str] = field(default_factory=list)  # without the <>
    tag_ds: list[str | None] = field(default_factory=list)
    tag_name: list[str | None] = field(default_factory=list)
    action_text: list[str | None] = field(default_factory=list)
    value: list[str | None] = field(default_factory=list)
    category: list[tuple[str, str]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.action)


def _strip(text: str | None) -> str | None:
    if text is None:
        return None
    return text[1:-1] if text.startswith("<") and text.endswith(">") else text


def check_category(action: str, category: dict) -> tuple[str, str]:
    """(category, subcategory) of a check, as MIDI-B's reports group them."""
    hipaa, dicom, tcia = category.get("hipaa") or {}, category.get("dicom") or {}, category.get("tcia") or {}
    fixed = {"date_shifted": ("hipaa", "HIPAA-C"), "uid_changed": ("hipaa", "HIPAA-R"),
             "pixels_hidden": ("hipaa", "HIPAA-A"), "patid_consistent": ("dicom", "DICOM-P15-BASIC-C"),
             "uid_consistent": ("dicom", "DICOM-P15-BASIC-U"), "pixels_retained": ("tcia", "TCIA-P15-PIX-K")}
    if action in fixed:
        return fixed[action]
    if action in ("tag_retained", "text_notnull"):
        return "dicom", dicom.get("iod") or "unknown"
    order: tuple[tuple[str, Any], ...] = (
        (("hipaa", hipaa.get("m")), ("hipaa", hipaa.get("z"))) if action == "text_removed" else ())
    order += (("tcia", tcia.get("p15")), ("tcia", tcia.get("ptkb")), ("tcia", tcia.get("rev")))
    return next(((cat, sub) for cat, sub in order if sub), ("unknown", "unknown"))


def load_answer_key(path: str | Path) -> AnswerKey:
    if not Path(path).is_file():
        raise FileNotFoundError(f"answer key not found: {path}")
    key = AnswerKey()
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        cursor = db.execute(
            'SELECT "index", PatientID, StudyInstanceUID, SeriesInstanceUID, SOPInstanceUID, Modality, '
            "AnswerData FROM answer_data ORDER BY \"index\"")
        for index, patient, study, series, sop, modality, data in cursor:
            row_number = len(key.rows)
            key.rows.append(KeyRow(index, patient or "", study or "", series or "", sop or "", modality or ""))
            for check in json.loads(data or "{}").values():
                action = _strip(check.get("action")) or ""
                key.row.append(row_number)
                key.action.append(action)
                key.tag_ds.append(check.get("tag_ds"))
                key.tag_name.append(_strip(check.get("tag_name")))
                key.action_text.append(check.get("action_text"))
                key.value.append(check.get("value"))
                key.category.append(check_category(action, check.get("answer_category_v2") or {}))
    return key

"""Answer key × output index × mappings → one PASS/FAIL/BLANK per check.

In: an `AnswerKey`, an `OutputIndex`, the UID and patient-ID mappings (`id_old → id_new`) and an
optional OCR engine. Out: `Judgement` arrays aligned with the key's checks. Key rows find their
output file through the UID mapping (original SOPInstanceUID → new → the file with that
SOPInstanceUID); a row without one is a missing file. Presence, equality and mapping checks are
numpy operations over all checks at once; text checks go through `compare_text`, memoised on
(found, expected), since the same pairs recur across the instances of a series.

The rules are those of `midib-dev/README.md`, which mirrors MIDI-B's published scorer:

    action            passes when                                    absent  missing file
    text_removed      no PHI of action_text left in the value        pass    pass
    text_retained     action_text (or each of its words) is there    fail    fail
    tag_retained      the attribute is present                       fail    fail
    text_notnull      present and not empty                          fail    fail
    date_shifted      the original date is not in the value          pass    pass
    uid_changed       the original UID is not in the value           pass    pass
    uid_consistent    value == uid_mapping[original]                 pass*   fail
    patid_consistent  value == patid_mapping[original]               pass*   fail
    pixels_retained   MD5 of the raw PixelData == action_text        -       fail
    pixels_hidden     OCR of the box finds none of the text          -       pass

    * fails when the attribute is absent from this file but present in other output files.
"""
from __future__ import annotations

import functools
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from deidc.runtime.pixels.ocr import OcrEngine
from deidc.scoring.answer_key import AnswerKey
from deidc.scoring.outputs import OutputIndex
from deidc.scoring.text import BLANK, FAIL, PASS, compare_text

HEADER_ACTIONS = ("text_removed", "text_retained", "tag_retained", "text_notnull", "date_shifted",
                  "uid_changed", "uid_consistent", "patid_consistent")


@dataclass
class Judgement:
    status: np.ndarray  # int8 per check: PASS, FAIL or BLANK
    found: list[str | None]  # the rendered value the check looked at
    file_of_row: np.ndarray  # per key row: index into the output files, -1 when missing
    seconds_header: float = 0.0  # time spent judging the header actions (for checks/s)


def _wrap(text: str | None) -> str:
    return f"<{text}>"


def _strip_all(text: str | None) -> str:
    return (text or "").replace("<", "").replace(">", "")


@functools.lru_cache(maxsize=262144)
def _text(found: str, expected: str | None, retain: bool) -> int:
    try:
        return compare_text(found, expected, retain)
    except Exception:  # noqa: BLE001 — as the published scorer: a check that errors is blank
        return BLANK


def match_rows(key: AnswerKey, index: OutputIndex, uid_map: dict[str, str]) -> np.ndarray:
    """Output file index for every key row (-1: no output file for it)."""
    return np.array([index.by_sop.get(uid_map.get(row.sop_uid, "\0"), -1) for row in key.rows], dtype=np.int64)


def judge(key: AnswerKey, index: OutputIndex, uid_map: dict[str, str], patid_map: dict[str, str],
          ocr: OcrEngine | None = None, clock: Callable[[], float] | None = None) -> Judgement:
    clock = clock or time.perf_counter
    file_of_row = match_rows(key, index, uid_map)
    n = len(key)
    status = np.full(n, BLANK, dtype=np.int8)
    action = np.array(key.action, dtype=object)
    file_idx = file_of_row[np.array(key.row, dtype=np.int64)] if n else np.zeros(0, dtype=np.int64)
    missing = file_idx < 0
    files = index.files
    found = [None if f < 0 or t is None else files[f].values.get(t) for f, t in zip(file_idx.tolist(), key.tag_ds, strict=True)]
    found_arr = np.array(found, dtype=object)
    present = np.array([v is not None for v in found], dtype=bool)
    column = np.array([t in index.present_tags for t in key.tag_ds], dtype=bool)

    started = clock()
    _judge_presence(status, action, missing, present, found_arr)
    _judge_text(status, action, missing, present, found, key.action_text)
    _judge_changed(status, action, missing, present, column, found, key.value)
    _judge_consistent(status, action, "uid_consistent", missing, present, column, found_arr, key.value,
                      {_wrap(k): _wrap(v) for k, v in uid_map.items()})
    _judge_consistent(status, action, "patid_consistent", missing, present, column, found_arr, key.value,
                      {_wrap(k): _wrap(v) for k, v in patid_map.items()})
    seconds_header = clock() - started
    _judge_pixels_retained(status, action, file_idx, files, key.action_text)
    _judge_pixels_hidden(status, action, file_idx, files, key.action_text, ocr)
    return Judgement(status, found, file_of_row, seconds_header)


def _judge_presence(status, action, missing, present, found_arr) -> None:
    is_tag = action == "tag_retained"
    status[is_tag] = np.where(present[is_tag], PASS, FAIL)
    is_notnull = action == "text_notnull"
    not_empty = present & (found_arr != "<>")
    status[is_notnull] = np.where(not_empty[is_notnull], PASS, FAIL)


def _judge_text(status, action, missing, present, found, expected) -> None:
    for name, retain in (("text_retained", True), ("text_removed", False)):
        selected = np.flatnonzero(action == name)
        absent = selected[~present[selected]]
        status[absent] = FAIL if retain else PASS  # absent or missing file
        for i in selected[present[selected]].tolist():
            value = found[i]
            if not retain and value == "<REMOVED>":
                value = "<>"
            status[i] = _text(value, expected[i], retain)


def _judge_changed(status, action, missing, present, column, found, original) -> None:
    """date_shifted / uid_changed: the original must no longer be a substring of the value."""
    selected = np.flatnonzero((action == "date_shifted") | (action == "uid_changed"))
    status[selected] = PASS  # missing file, or attribute absent everywhere
    for i in selected.tolist():
        if missing[i] or not (present[i] or column[i]):
            continue
        value = (found[i] or "").replace("\\", "")  # absent here but present elsewhere: ''
        status[i] = FAIL if _strip_all(original[i]).replace("\\", "") in value else PASS


def _judge_consistent(status, action, name, missing, present, column, found_arr, original, mapping) -> None:
    selected = np.flatnonzero(action == name)
    if not len(selected):
        return
    expected = np.array([mapping.get(original[i], "") for i in selected.tolist()], dtype=object)
    value = np.where(present[selected], found_arr[selected], "")
    result = np.where(value == expected, PASS, FAIL)
    result = np.where(~present[selected] & ~column[selected], PASS, result)  # absent everywhere
    result = np.where(missing[selected], FAIL, result)
    status[selected] = result


def _judge_pixels_retained(status, action, file_idx, files, expected) -> None:
    for i in np.flatnonzero(action == "pixels_retained").tolist():
        f = file_idx[i]
        status[i] = PASS if f >= 0 and files[f].pixel_md5 == _strip_all(expected[i]).lower() else FAIL


def _judge_pixels_hidden(status, action, file_idx, files, expected, ocr: OcrEngine | None) -> None:
    from deidc.scoring.pixels import text_still_readable

    for i in np.flatnonzero(action == "pixels_hidden").tolist():
        f = file_idx[i]
        if f < 0:
            status[i] = PASS
            continue
        if ocr is None:
            status[i] = BLANK
            continue
        try:
            box = json.loads(_strip_outer(expected[i]))
            readable = text_still_readable(Path(files[f].path), box, ocr)
        except ImportError:
            raise  # a missing OCR backend is the user's to fix, not a blank check
        except Exception:  # noqa: BLE001 — an unreadable box or image is a blank check, not a crash
            status[i] = BLANK
            continue
        status[i] = FAIL if readable else PASS


def _strip_outer(text: str | None) -> str:
    text = text or ""
    return text[1:-1] if text.startswith("<") and text.endswith(">") else text

"""Scoring de-identified output against a MIDI-B answer key (`deidc score`).

In: an output folder, an answer key (SQLite), the run's UID and patient-ID mappings. Out: per
check PASS/FAIL/BLANK (`judge`), scores by action and category, series- and instance-based
(`report`), and the failing checks to fix. Stages: answer_key → outputs → judge → report.
"""
from __future__ import annotations

import csv
import time
from dataclasses import dataclass
from pathlib import Path

from deidc.runtime.pixels.ocr import OcrEngine
from deidc.scoring.answer_key import AnswerKey, load_answer_key
from deidc.scoring.judge import Judgement, judge
from deidc.scoring.outputs import OutputIndex, index_output


@dataclass
class ScoringRun:
    key: AnswerKey
    index: OutputIndex
    judgement: Judgement
    seconds: dict[str, float]


def read_mapping(path: Path | None) -> dict[str, str]:
    """`id_old,id_new` CSV → dict; None or a missing file → {} (every lookup then fails)."""
    if path is None or not path.is_file():
        return {}
    with path.open(newline="", encoding="utf-8-sig") as fh:  # spreadsheets add a byte-order mark
        return {row["id_old"]: row["id_new"] for row in csv.DictReader(fh)
                if row.get("id_old") is not None and row.get("id_new") is not None}


def run_scoring(out_dir: Path, key_path: Path, uid_map: dict[str, str], patid_map: dict[str, str],
                ocr: OcrEngine | None) -> ScoringRun:
    seconds: dict[str, float] = {}
    t = time.perf_counter()
    key = load_answer_key(key_path)
    seconds["load_key"] = time.perf_counter() - t
    t = time.perf_counter()
    index = index_output(out_dir, needed={t for t in key.tag_ds if t is not None})
    seconds["index_output"] = time.perf_counter() - t
    t = time.perf_counter()
    judgement = judge(key, index, uid_map, patid_map, ocr)
    seconds["judge"] = time.perf_counter() - t
    seconds["judge_header"] = judgement.seconds_header
    return ScoringRun(key, index, judgement, seconds)

"""Judgements → scores, tables and a discrepancy list people can act on.

In: the key, the output index and the `Judgement`. Out: a `Score` (per action and per category:
pass / fail / blank / total; the overall score), the failing checks (file, tag path, tag name,
action, expected, found), and writers for CSV, XLSX and JSON.

Aggregation: *instance-based* counts every check; *series-based* (MIDI-B's ranking) keeps one
result per (series, action, tag path) — per (series, action, expected text) for pixel checks,
which have no tag path — and any failing instance fails it. BLANK (a check the published scorer
cannot evaluate) counts as not passed.
"""
from __future__ import annotations

import csv
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from deidc.scoring.answer_key import AnswerKey
from deidc.scoring.judge import Judgement
from deidc.scoring.outputs import OutputIndex
from deidc.scoring.text import BLANK, FAIL, PASS

_RANK = {FAIL: 0, BLANK: 1, PASS: 2}  # worst result of a group wins
_FROM_RANK = {v: k for k, v in _RANK.items()}


@dataclass
class Tally:
    passed: int = 0
    failed: int = 0
    blank: int = 0

    @property
    def total(self) -> int:
        return self.passed + self.failed + self.blank

    @property
    def score(self) -> float:
        return self.passed / self.total if self.total else 0.0

    def add(self, status: int, n: int = 1) -> None:
        if status == PASS:
            self.passed += n
        elif status == FAIL:
            self.failed += n
        else:
            self.blank += n


@dataclass
class Score:
    by: str
    overall: Tally = field(default_factory=Tally)
    actions: dict[str, Tally] = field(default_factory=dict)
    categories: dict[tuple[str, str], Tally] = field(default_factory=dict)
    missing_files: int = 0
    checks: int = 0


def aggregate(key: AnswerKey, judgement: Judgement, by: str = "series") -> tuple[np.ndarray, np.ndarray]:
    """(status per result, a representative check index per result) for the chosen aggregation."""
    status = judgement.status
    if by == "instance":
        return status, np.arange(len(status))
    series = [key.rows[r].series_uid for r in key.row]
    keys = [f"{s}\x00{a}\x00{t if t is not None else x}"
            for s, a, t, x in zip(series, key.action, key.tag_ds, key.action_text, strict=True)]
    _, first, inverse = np.unique(np.array(keys, dtype=object), return_index=True, return_inverse=True)
    ranks = np.vectorize(_RANK.get, otypes=[np.int8])(status) if len(status) else np.zeros(0, np.int8)
    worst = np.full(len(first), 2, dtype=np.int8)
    np.minimum.at(worst, inverse.ravel(), ranks)
    # the representative of a failed group is one of its failing checks, for the discrepancy list
    representative = first.copy()
    failing = np.flatnonzero(ranks == 0)
    representative[inverse.ravel()[failing]] = failing
    return np.vectorize(_FROM_RANK.get, otypes=[np.int8])(worst) if len(worst) else worst, representative


def score(key: AnswerKey, judgement: Judgement, by: str = "series") -> Score:
    status, rep = aggregate(key, judgement, by)
    result = Score(by, missing_files=int((judgement.file_of_row < 0).sum()), checks=len(key))
    for s, i in zip(status.tolist(), rep.tolist(), strict=True):
        result.overall.add(s)
        result.actions.setdefault(key.action[i], Tally()).add(s)
        result.categories.setdefault(key.category[i], Tally()).add(s)
    result.actions = dict(sorted(result.actions.items()))
    result.categories = dict(sorted(result.categories.items()))
    return result


DISCREPANCY_COLUMNS = ("status", "file", "input_sop_uid", "series_uid", "tag_path", "tag_name", "action",
                       "expected", "found", "category", "subcategory")


def discrepancies(key: AnswerKey, index: OutputIndex, judgement: Judgement) -> list[dict[str, str | None]]:
    """Every check that did not pass (instance level: each is something to fix)."""
    rows: list[dict[str, str | None]] = []
    for i in np.flatnonzero(judgement.status != PASS).tolist():
        row = key.rows[key.row[i]]
        f = judgement.file_of_row[key.row[i]]
        expected = key.action_text[i] if key.action_text[i] is not None else key.value[i]
        rows.append({
            "status": "blank" if judgement.status[i] == BLANK else "fail",
            "file": str(index.files[f].path) if f >= 0 else "(missing)",
            "input_sop_uid": row.sop_uid, "series_uid": row.series_uid,
            "tag_path": key.tag_ds[i] or "", "tag_name": key.tag_name[i] or "", "action": key.action[i],
            "expected": expected or "", "found": judgement.found[i] if judgement.found[i] is not None else "(absent)",
            "category": key.category[i][0], "subcategory": key.category[i][1],
        })
    return rows


def summary_dict(scores: list[Score], index: OutputIndex, judgement: Judgement, seconds: dict[str, float]) -> dict:
    def tally(t: Tally) -> dict:
        return {"passed": t.passed, "failed": t.failed, "blank": t.blank, "total": t.total, "score": round(t.score, 6)}

    return {
        "scores": {s.by: {"overall": tally(s.overall),
                          "actions": {a: tally(t) for a, t in s.actions.items()},
                          "categories": {f"{c}/{sub}": tally(t) for (c, sub), t in s.categories.items()}}
                   for s in scores},
        "checks": scores[0].checks if scores else 0,
        "output_files": len(index.files),
        "missing_files": scores[0].missing_files if scores else 0,
        "findings": [{"file": f, "finding": what} for f, what in index.findings],
        "statuses": dict(Counter({PASS: "pass", FAIL: "fail", BLANK: "blank"}[s] for s in judgement.status.tolist())),
        "seconds": seconds,
    }


def write_report(path: Path, scores: list[Score], rows: list[dict[str, str | None]], index: OutputIndex) -> None:
    """CSV: the discrepancy list. XLSX: sheets Summary, Actions, Categories, Discrepancies, Findings."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".xlsx":
        _write_xlsx(path, scores, rows, index)
        return
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=DISCREPANCY_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)


def _write_xlsx(path: Path, scores: list[Score], rows: list[dict[str, str | None]], index: OutputIndex) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.worksheets[0]  # a new workbook holds one sheet
    sheet.title = "Summary"
    sheet.append(["aggregation", "passed", "failed", "blank", "total", "score"])
    for s in scores:
        sheet.append([s.by, s.overall.passed, s.overall.failed, s.overall.blank, s.overall.total, s.overall.score])
    for title, part in (("Actions", "actions"), ("Categories", "categories")):
        ws = book.create_sheet(title)
        ws.append(["aggregation", "key", "passed", "failed", "blank", "total", "score"])
        for s in scores:
            for name, t in getattr(s, part).items():
                label = "/".join(name) if isinstance(name, tuple) else name
                ws.append([s.by, label, t.passed, t.failed, t.blank, t.total, t.score])
    ws = book.create_sheet("Discrepancies")
    ws.append(list(DISCREPANCY_COLUMNS))
    for row in rows:
        ws.append([row[c] for c in DISCREPANCY_COLUMNS])
    ws = book.create_sheet("Findings")
    ws.append(["file", "finding"])
    for f, what in index.findings:
        ws.append([f, what])
    book.save(path)


def dump_json(summary: dict) -> str:
    return json.dumps(summary, indent=2, sort_keys=True)

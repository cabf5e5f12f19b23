"""Judgements → scores, tables and a discrepancy list people can act on.

In: the key, the output index and the `Judgement`. Out: a `Score` (per action and per category:
pass / fail / blank / total; the overall score), the failing checks (file, tag path, tag name,
action, expected, found), and writers for CSV, XLSX and JSON.

Aggregation, as MIDI-B's published scorer: *instance-based* counts every check; *series-based*
(the challenge's ranking) keeps one result per (action, tag path, patient, study, series), the
checks sorted so that FAIL comes first, then PASS, then BLANK (pandas sorts a missing
`check_passed` last): any failing instance fails the group, and a group with a pass and a blank
passes. A check without a tag path (every pixel check) groups as one missing value, as NaN equals
NaN in `drop_duplicates`: a series yields one `pixels_hidden` result however many boxes it has.
BLANK (a check the published scorer cannot evaluate) counts as not passed. The *normalised*
score (MIDI-B's report, Table 6) is the mean over action types of each type's pass rate, for the
results of the same aggregation.
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

_RANK = {FAIL: 0, PASS: 1, BLANK: 2}  # the order the published scorer sorts check_passed in (NaN last)


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

    @property
    def normalised(self) -> float:
        """The mean over action types of each type's pass rate (MIDI-B's report, Table 6)."""
        rates = [t.score for t in self.actions.values() if t.total]
        return sum(rates) / len(rates) if rates else 0.0


def group_keys(key: AnswerKey) -> list[str]:
    """The published scorer's series-based key of every check: (action, tag_ds, patient, study,
    series), a missing tag_ds being one value of its own."""
    rows = key.rows
    keys = []
    for r, a, t in zip(key.row, key.action, key.tag_ds, strict=True):
        tag = "\x01" if t is None else "\x02" + t  # None (NaN) is one value, apart from every string
        row = rows[r]
        keys.append("\x00".join((a, tag, row.patient_id, row.study_uid, row.series_uid)))
    return keys


def aggregate(key: AnswerKey, judgement: Judgement, by: str = "series") -> tuple[np.ndarray, np.ndarray]:
    """(status per result, the check each result stands for) for the chosen aggregation.

    Series-based: per group the first check in the order FAIL, PASS, BLANK — the check the
    published scorer keeps (`sort_values('check_passed')`, then `drop_duplicates(keep='first')`)."""
    status = judgement.status
    if by == "instance" or not len(status):
        return status, np.arange(len(status))
    _, inverse = np.unique(np.array(group_keys(key), dtype=object), return_inverse=True)
    inverse = inverse.ravel()
    ranks = np.vectorize(_RANK.get, otypes=[np.int8])(status)
    order = np.lexsort((np.arange(len(status)), ranks, inverse))  # by group, then rank, then key order
    grouped = inverse[order]
    starts = np.flatnonzero(np.r_[True, grouped[1:] != grouped[:-1]])
    representative = order[starts]
    return status[representative], representative


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
        "scores": {s.by: {"overall": tally(s.overall), "normalised": round(s.normalised, 6),
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


SUMMARY_COLUMNS = ("aggregation", "passed", "failed", "blank", "total", "score", "normalised")
SCORE_COLUMNS = ("aggregation", "key", "passed", "failed", "blank", "total", "score")


def summary_rows(scores: list[Score]) -> list[list]:
    """The Summary sheet: per aggregation the overall tally, its score and the normalised score."""
    return [[s.by, s.overall.passed, s.overall.failed, s.overall.blank, s.overall.total, s.overall.score,
             s.normalised] for s in scores]


def score_rows(scores: list[Score], part: str) -> list[list]:
    """The Actions (`part="actions"`) or Categories sheet: one row per aggregation and key."""
    rows: list[list] = []
    for s in scores:
        for name, t in getattr(s, part).items():
            label = "/".join(name) if isinstance(name, tuple) else name
            rows.append([s.by, label, t.passed, t.failed, t.blank, t.total, t.score])
    return rows


def summary_csv_path(path: Path) -> Path:
    """Where a CSV report's scores go: next to it, `NAME-summary.csv`."""
    return path.with_name(f"{path.stem}-summary{path.suffix}")


def write_report(path: Path, scores: list[Score], rows: list[dict[str, str | None]], index: OutputIndex) -> None:
    """XLSX: sheets Summary, Actions, Categories, Discrepancies, Findings. CSV: the discrepancy
    list, and the scores in `NAME-summary.csv`: a `part` column (summary, actions, categories),
    then the columns of the Actions sheet and `normalised` (summary rows only, key `(all)`)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".xlsx":
        _write_xlsx(path, scores, rows, index)
        return
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=DISCREPANCY_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    with summary_csv_path(path).open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["part", *SCORE_COLUMNS, "normalised"])
        for by, *tally in summary_rows(scores):
            out.writerow(["summary", by, "(all)", *tally])
        for part in ("actions", "categories"):
            for row in score_rows(scores, part):
                out.writerow([part, *row, ""])


def _write_xlsx(path: Path, scores: list[Score], rows: list[dict[str, str | None]], index: OutputIndex) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.worksheets[0]  # a new workbook holds one sheet
    sheet.title = "Summary"
    sheet.append(list(SUMMARY_COLUMNS))
    for values in summary_rows(scores):
        sheet.append(values)
    for title, part in (("Actions", "actions"), ("Categories", "categories")):
        ws = book.create_sheet(title)
        ws.append(list(SCORE_COLUMNS))
        for values in score_rows(scores, part):
            ws.append(values)
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

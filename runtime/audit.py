"""audit.jsonl: what a run did to each released file — one JSON line per file, naming it once.

In: a released file's input path (relative to the input folder), its output path, its changes
and the warnings raised while it was handled. Out: one line
    {"file": "PAT01/img1.dcm", "output": "P/S/R/x.dcm",
     "changes": [["remove", "tcia.deid:120", ["(0008,0020)", "(0010,1010)"]],
                 ["clean", "tcia.deid:300", ["(0008,1030)", "(0008,103e)"], ["name:fuzzy", null]], ...],
     "warnings": ["UserWarning from pydicom/valuerep.py:1213"]}
with changes grouped by (action, rule) in the order they were first made, and notes (kinds,
matchers, reasons), aligned with the paths, only in a group that has some. Nothing here quotes an
element's value or text read from pixels: the handlers write notes that way, and warnings and
errors are reduced to their kind and where they were raised (`summarise_warning`,
`summarise_error`). `read_changes` gives the changes back one by one, for tools and tests.
"""
from __future__ import annotations

import json
import warnings
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, NamedTuple


class Change(NamedTuple):
    """One changed element, for the audit (a tuple: hundreds are made per file)."""
    path: str
    action: str
    rule: str
    note: str | None = None


def file_line(input_path: str, output: str | None, changes: Iterable[Any], warnings: Iterable[str] = ()) -> str:
    """The audit line of one released file; `changes` are `Change`s (path, action, rule, note)."""
    groups: dict[tuple[str, str], list] = {}
    for path, action, rule, note in changes:
        group = groups.get((action, rule))
        if group is None:
            group = groups[(action, rule)] = [action, rule, []]
        if note and len(group) == 3:  # notes, aligned with the paths, once the group has one
            group.append([None] * len(group[2]))
        group[2].append(path)
        if len(group) == 4:
            group[3].append(note or None)
    record: dict[str, Any] = {"file": input_path, "output": output, "changes": list(groups.values())}
    if warnings:
        record["warnings"] = sorted(set(warnings))
    return json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"


def summarise_warning(warning: warnings.WarningMessage) -> str:
    """`UserWarning from pydicom/valuerep.py:1213`: a warning's kind and where it was raised, not
    its text, which libraries fill with the value they complain about (`Invalid value for VR UI:
    '1.2.3.MRN42'`) — quoted or not, so no cut of the text is safe."""
    where = Path(warning.filename)
    return f"{warning.category.__name__} from {where.parent.name}/{where.name}:{warning.lineno}"


def read_changes(path: Path) -> Iterator[dict]:
    """Every change of an audit.jsonl as {"file", "output", "path", "action", "rule", "note"}."""
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            yield from line_changes(line)


def line_changes(line: str) -> Iterator[dict]:
    """The changes of one audit line, one by one (see `read_changes`)."""
    record = json.loads(line)
    for action, rule, paths, *notes in record["changes"]:
        for n, element in enumerate(paths):
            yield {"file": record["file"], "output": record["output"], "path": element,
                   "action": action, "rule": rule, "note": notes[0][n] if notes else None}


def summarise_error(err: BaseException) -> str:
    """`ValueError in pydicom/valuerep.py` for any exception: its type and where it was raised,
    not its text, which for a library's error often quotes the value it failed on."""
    frame = err.__traceback__
    while frame is not None and frame.tb_next is not None:
        frame = frame.tb_next
    if frame is None:
        return type(err).__name__
    where = Path(frame.tb_frame.f_code.co_filename)
    return f"{type(err).__name__} in {where.parent.name}/{where.name}"

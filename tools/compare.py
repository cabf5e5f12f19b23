"""Two Plans × the same DICOM files → the element values on which their outputs differ.

In: two compiled Plans, their keys, and sample files. Out: per file, the tag paths whose
rendered value (as `deidc score` renders it) differs between the two de-identified copies,
with both values, or the quarantine reason of either side. Used by `deidc diff --on DIR`.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path

from deidc.compiler.plan import Plan
from deidc.runtime.batch.inputs import discover_inputs
from deidc.runtime.codec.files import NotDicom, read_dataset
from deidc.runtime.interpret.walk import DatasetDeidentifier
from deidc.scoring.outputs import render_values

ABSENT = "(absent)"


@dataclass(frozen=True)
class ValueDifference:
    file: str
    path: str
    a: str
    b: str


def _outcome(deidentifier: DatasetDeidentifier, ds) -> dict[str, str] | str:
    result = deidentifier.deidentify(ds)
    return f"(quarantined: {result.quarantine})" if result.quarantine else render_values(ds)


def compare_on_files(plan_a: Plan, keys_a: dict[str, bytes], plan_b: Plan, keys_b: dict[str, bytes],
                     directory: Path, limit: int = 20) -> tuple[list[ValueDifference], int]:
    """(differences, files compared) on the first `limit` readable files under `directory`."""
    side_a, side_b = DatasetDeidentifier(plan_a, keys_a), DatasetDeidentifier(plan_b, keys_b)
    differences: list[ValueDifference] = []
    compared = 0
    for path in discover_inputs(directory).files:  # the files `apply` would read
        if compared >= limit:
            break
        try:
            original = read_dataset(path)
        except NotDicom:
            continue
        compared += 1
        name = str(path.relative_to(directory)) if directory.is_dir() else path.name
        a, b = _outcome(side_a, copy.deepcopy(original)), _outcome(side_b, copy.deepcopy(original))
        if isinstance(a, str) or isinstance(b, str):
            if a != b:
                differences.append(ValueDifference(name, "(file)", a if isinstance(a, str) else "written",
                                                   b if isinstance(b, str) else "written"))
            continue
        for tag_path in sorted(set(a) | set(b)):
            if a.get(tag_path) != b.get(tag_path):
                differences.append(ValueDifference(name, tag_path, a.get(tag_path, ABSENT), b.get(tag_path, ABSENT)))
    return differences, compared

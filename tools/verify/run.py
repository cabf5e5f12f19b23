"""One verification of an output folder: every scanner of this package over its released files.

In: the output folder, optionally the run's input folder (`against`), whether to OCR burned-in
text and whether to run dciodvfy. Out: a `Verification`: the findings, sorted, and what was
checked. The scanners read each output once; with `against`, each output is paired with its
input through the run's UID mapping (tree.py).
"""
from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pydicom
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError

from deidc.runtime.audit import read_changes
from deidc.runtime.pixels.ocr import OcrEngine
from deidc.tools.verify import Finding
from deidc.tools.verify.consistency import scan_consistency
from deidc.tools.verify.headers import scan_headers
from deidc.tools.verify.phi_search import original_phi, search_pixels, search_text
from deidc.tools.verify.tree import pair_with_inputs, released_files


@dataclass
class Verification:
    files: int  # released files looked at
    paired: int  # of them, paired with their input (`against`)
    findings: list[Finding]
    seconds: float
    notes: list[str] = field(default_factory=list)  # what could not be checked, and why
    conformance_input_errors: int = 0  # dciodvfy errors the inputs had already (not findings)

    def counts(self) -> Counter[str]:
        return Counter(f.kind for f in self.findings)


def verify_output(out: Path, against: Path | None = None, ocr: OcrEngine | None = None,
                  conformance: bool = False) -> Verification:
    """Scan `out`; `against`: the run's input, for the PHI search and the consistency checks;
    `ocr`: read burned-in text (with `against`); `conformance`: dciodvfy, output against input."""
    start = time.perf_counter()
    files = released_files(out)
    pairs = pair_with_inputs(out, files, against) if against is not None else {}
    changed = changed_paths(out)
    findings: list[Finding] = []
    notes: list[str] = []
    for path in files:
        findings.extend(_scan_file(out, path, pairs.get(path), ocr, changed.get(str(path.relative_to(out)))))
    if against is not None:
        findings.extend(scan_consistency(out, files, pairs))
        missing = len(files) - len(pairs)
        if missing:
            notes.append(f"{missing} released file(s) not found among the inputs: their PHI was not searched")
    result = Verification(len(files), len(pairs), findings, 0.0, notes)
    if conformance:
        _add_conformance(result, out, files, pairs)
    result.findings = sorted(set(result.findings))
    result.seconds = time.perf_counter() - start
    return result


def changed_paths(out: Path) -> dict[str, frozenset[str]]:
    """Output file → the tag paths the run's audit.jsonl says it changed there (empty without one).
    The audit is the run's own account: it lets a hashed private value be told from a kept one
    when the inputs are not at hand; with them, the values themselves are compared."""
    audit = out / "audit.jsonl"
    if not audit.is_file():
        return {}
    found: dict[str, set[str]] = {}
    for change in read_changes(audit):
        if change["output"]:
            found.setdefault(change["output"], set()).add(change["path"])
    return {output: frozenset(paths) for output, paths in found.items()}


def _scan_file(out: Path, path: Path, original_path: Path | None, ocr: OcrEngine | None,
               changed: frozenset[str] | None) -> Iterator[Finding]:
    rel = str(path.relative_to(out))
    try:
        ds = pydicom.dcmread(path, force=True)
    except (InvalidDicomError, OSError, ValueError, EOFError) as err:
        yield Finding("not-dicom", rel, "", f"cannot be read as DICOM ({type(err).__name__})")
        return
    original = _read(original_path) if original_path is not None else None
    yield from scan_headers(path, rel, original, changed)
    if original is not None:
        phi = original_phi(original)
        yield from search_text(ds, phi, rel)
        if ocr is not None:
            yield from search_pixels(path, phi, rel, ocr)


def _read(path: Path) -> Dataset | None:
    try:
        return pydicom.dcmread(path, force=True, stop_before_pixels=True)
    except (InvalidDicomError, OSError, ValueError, EOFError):
        return None


def _add_conformance(result: Verification, out: Path, files: list[Path], pairs: dict[Path, Path]) -> None:
    from deidc.tools.verify.conformance import MISSING_DCIODVFY, check_conformance, dciodvfy_path

    if dciodvfy_path() is None:
        result.notes.append(MISSING_DCIODVFY)
        return
    checked = check_conformance({path: pairs.get(path) for path in files}, out)
    result.findings.extend(checked.findings)
    result.conformance_input_errors = checked.input_errors

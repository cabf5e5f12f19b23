"""The checks the fault suite makes on what one `deidc apply` over a corpus released.

In: the input folder, the output folder, the corpus's `Mutant`s (or None), the `ApplyRun`, the
ruleset's name.
Out: `check_run` -> `RunFindings`: counts, quarantine reasons by kind, and every breach of the
output contract by kind (tracebacks, exit code, inputs not accounted for, quarantine rows that name
no input, released files that fail a full pydicom decode or `dcmdump +E`, released files holding a
marker, temporary files left in the output), plus marker leaks the corpus recorded as ambiguous.
Nothing is asserted here. The smaller readers (`output_files`, `read_quarantine`, `audit_outputs`,
`decode_problem`, `dcmdump_problem`, `markers_in`, `reason_kind`) are usable alone.
"""
from __future__ import annotations

import json
import re
import subprocess
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import pydicom

from faultkit.corpus import Mutant
from faultkit.layout import DEFLATED, Malformed, inflate, parse_meta
from faultkit.running import ApplyRun
from faultkit.sources import MARKER, MARKER_RE

# ---- checks on a run -----------------------------------------------------------------------------

SIDE_FILES = frozenset({"mappings/uid_mapping.csv", "mappings/patid_mapping.csv", "audit.jsonl", "quarantine.csv"})
INTERNAL_ERRORS = re.compile(r"\b(AttributeError|TypeError|KeyError|IndexError|ValueError|RecursionError|"
                             r"UnboundLocalError|NameError|AssertionError|ZeroDivisionError|OverflowError|"
                             r"MemoryError|UnicodeDecodeError|UnicodeEncodeError|struct\.error|NotImplementedError)\b")
DCMDUMP = Path("/usr/bin/dcmdump")


def output_files(out: Path) -> tuple[list[Path], list[str]]:
    """(released DICOM files, anything else that is not a sidecar: temporary or stray files and folders)."""
    released, stray = [], []
    for path in sorted(out.rglob("*")):
        relative = path.relative_to(out).as_posix()
        hidden = any(part.startswith(".") for part in path.relative_to(out).parts)
        if path.is_dir():
            if hidden:
                stray.append(relative + "/")
            continue
        if relative in SIDE_FILES:
            continue
        if path.suffix == ".dcm" and not hidden and ".partial" not in path.name and ".tmp" not in path.name:
            released.append(path)
        else:
            stray.append(relative)
    return released, stray


def read_quarantine(out: Path) -> list[tuple[str, str]] | None:
    path = out / "quarantine.csv"
    if not path.exists():
        return None
    import csv
    with path.open(newline="", encoding="utf-8", errors="surrogateescape") as handle:
        rows = list(csv.reader(handle))
    return [(r[0], r[1] if len(r) > 1 else "") for r in rows[1:]] if rows else []


def audit_outputs(out: Path) -> dict[str, str]:
    """output path (relative to OUT) -> the input it came from, from audit.jsonl (names in messages)."""
    found: dict[str, str] = {}
    path = out / "audit.jsonl"
    if not path.exists():
        return found
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if record.get("output") and record.get("file"):
            found.setdefault(record["output"], record["file"])
    return found


def decode_problem(path: Path) -> str | None:
    """Why pydicom cannot decode the file fully (every element at any depth, and the pixel data:
    encapsulated fragments framed, native pixel data of the size the image attributes say)."""
    from pydicom.encaps import generate_fragments
    from pydicom.pixels.utils import get_expected_length
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds = pydicom.dcmread(path)  # no force: a released file must be Part 10
            stack = [ds]
            while stack:
                for element in stack.pop():
                    value = element.value
                    if element.VR == "SQ":
                        stack.extend(value)
            if "PixelData" in ds:
                syntax = ds.file_meta.TransferSyntaxUID
                if syntax.is_encapsulated:
                    fragments = list(generate_fragments(ds.PixelData))
                    if not fragments:
                        return "encapsulated pixel data without fragments"
                else:
                    expected = get_expected_length(ds, "bytes")
                    actual = len(ds.PixelData)
                    if actual not in (expected, expected + expected % 2):
                        return f"native pixel data of {actual} bytes, the image attributes say {expected}"
    except Exception as err:  # noqa: BLE001 — any failure to decode is the finding
        return f"{type(err).__name__}: {err}"
    return None


def dcmdump_problem(path: Path) -> str | None:
    if not DCMDUMP.exists():
        return None
    run = subprocess.run([str(DCMDUMP), "+E", str(path)], capture_output=True, text=True, errors="replace",
                         timeout=120)
    errors = [line for line in run.stderr.splitlines() if line.startswith("E:")]
    if run.returncode != 0 or errors:
        return (errors[0] if errors else f"exit {run.returncode}")[:300]
    return None


def markers_in(path: Path) -> set[str]:
    """The markers in a file's bytes (a deflated dataset inflated first)."""
    data = path.read_bytes()
    found = {m.group(0).decode() for m in MARKER_RE.finditer(data)}
    try:
        meta, offset = parse_meta(data)
        uid = next((e.value for e in meta if e.tag == 0x00020010), b"").rstrip(b"\x00 ").decode("ascii", "replace")
        if uid == DEFLATED:
            found |= {m.group(0).decode() for m in MARKER_RE.finditer(inflate(data[offset:]))}
    except Malformed:
        pass
    return found


@dataclass
class RunFindings:
    """What one `deidc apply` over a corpus did, and every breach of the output contract, by kind."""
    inputs: int
    released: int
    quarantined: int
    returncode: int | None
    reasons: dict[str, int] = field(default_factory=dict)
    problems: dict[str, list[str]] = field(default_factory=dict)
    ambiguous_leaks: list[str] = field(default_factory=list)

    def add(self, kind: str, detail: str) -> None:
        self.problems.setdefault(kind, []).append(detail)

    def report(self, kind: str, limit: int = 25) -> str:
        items = self.problems.get(kind, [])
        shown = "\n  ".join(items[:limit])
        more = f"\n  ... and {len(items) - limit} more" if len(items) > limit else ""
        return f"{len(items)} {kind}:\n  {shown}{more}"


def reason_kind(reason: str) -> str:
    """A quarantine reason without its file-specific details, to count reasons."""
    text = re.sub(r"\d+", "N", reason)
    text = re.sub(r"'[^']*'|\"[^\"]*\"", "'…'", text)
    return text.split(";")[0][:90]


def check_run(input_dir: Path, out: Path, mutants: list[Mutant] | None, run: ApplyRun, ruleset: str,
              use_dcmdump: bool = True) -> RunFindings:
    """Every check of the fault suite on one finished run (nothing asserted here)."""
    returncode, stderr = run.returncode, run.stderr
    inputs = sorted(p for p in input_dir.rglob("*") if p.is_file() and not p.is_symlink())
    input_names = {str(p) for p in inputs}
    released, stray = output_files(out)
    rows = read_quarantine(out)
    findings = RunFindings(len(inputs), len(released), len(rows or []), returncode)
    by_number = {m.number: m for m in mutants or []}
    by_file = {str(input_dir / m.file): m for m in mutants or []}
    by_file.update({m.file: m for m in mutants or []})  # names in messages, whatever form a row uses
    sources = audit_outputs(out)

    def origin(path: Path) -> str:
        relative = path.relative_to(out).as_posix()
        source = sources.get(relative)
        mutant = by_file.get(str(input_dir / source)) if source else None
        if mutant is not None:
            return f"{relative} <- {mutant.file} [{mutant.mutation}: {mutant.detail}]"
        return f"{relative} <- {source or 'unknown input'}"

    for stream in (run.stderr, run.stdout):
        if "Traceback (most recent call last)" in stream:
            findings.add("tracebacks", stream[stream.index("Traceback"):][:1500])
    if rows is None:
        findings.add("missing quarantine.csv", str(out / "quarantine.csv"))
        rows = []
    expected_code = 3 if rows else 0
    if returncode != expected_code:
        findings.add("wrong exit code", f"exit {returncode}, expected {expected_code} "
                                        f"({len(rows)} quarantine rows); stderr: {stderr[-600:].strip()}")
    names = [r[0] for r in rows]
    for name, reason in rows:
        findings.reasons[reason_kind(reason)] = findings.reasons.get(reason_kind(reason), 0) + 1
        if name not in input_names:
            findings.add("quarantine rows naming no input", f"{name!r}: {reason[:200]}")
        if INTERNAL_ERRORS.search(reason):
            mutant = by_file.get(name)
            findings.add("internal errors as quarantine reasons",
                         f"{name} [{mutant.mutation if mutant else '?'}]: {reason[:300]}")
    duplicates = {n for n in names if names.count(n) > 1}
    for name in sorted(duplicates):
        findings.add("inputs quarantined twice", name)
    if len(released) + len(rows) != len(inputs):
        findings.add("inputs not accounted for", f"{len(inputs)} inputs, {len(released)} written + "
                                                 f"{len(rows)} quarantined = {len(released) + len(rows)}")
    for relative in stray:
        findings.add("temporary or stray files in the output", relative)
    quarantined = set(names)
    for mutant in mutants or []:
        if mutant.expect_written and str(input_dir / mutant.file) in quarantined:
            reason = next(r for n, r in rows if n == str(input_dir / mutant.file))
            findings.add("valid files quarantined", f"{mutant.file} [{mutant.mutation}]: {reason[:200]}")
    for path in released:
        problem = decode_problem(path)
        if problem:
            findings.add("released files pydicom cannot decode", f"{origin(path)}: {problem}")
        if use_dcmdump:
            problem = dcmdump_problem(path)
            if problem:
                findings.add("released files dcmdump +E rejects", f"{origin(path)}: {problem}")
        for marker in sorted(markers_in(path)):
            mutant = by_number.get(int(marker[len(MARKER):]))
            why = mutant.ambiguous_for(ruleset) if mutant else ""
            text = (f"{origin(path)}: {marker} from {mutant.file if mutant else '?'} "
                    f"[{mutant.mutation if mutant else '?'}: {mutant.detail if mutant else ''}]")
            if why:
                findings.ambiguous_leaks.append(f"{text} (ambiguous: {why})")
            else:
                findings.add("released files holding the marker", text)
    return findings

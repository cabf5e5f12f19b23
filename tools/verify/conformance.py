"""dciodvfy on each released file and on its input: the conformance errors de-identification added.

In: output → input pairs (tree.pair_with_inputs) and the output folder. Out: a ConformanceResult
whose findings are the errors an output has that its input did not have ("conformance-new-error"),
and, for an output whose input was not found, all of its errors ("conformance-error", no
baseline). The inputs' own errors are counted apart, never reported as findings: a defect the
scanner or the sender made is not one de-identification made.

dciodvfy (David Clunie's validator, Debian package dicom3tools) quotes element values in its
messages — `UI [1] = <1.2.3...>`, `Illegal root for UID - "1.2.3"`, `Unrecognized defined term
<X>`, `ReferencedSOPInstanceUID 1.2.3`, `Character invalid for this VR = 'P' (0x50)`. A finding's
detail is the message with every such value replaced (`scrub`): what is kept is dciodvfy's own
wording, the tag, and attribute, module and macro names. The same scrubbed text is the key that
matches an output's error to its input's, so a defect that only changed value (a new UID with
the same illegal root problem) is not new.
"""
from __future__ import annotations

import re
import shutil
import subprocess
from collections import Counter
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from pydicom.datadict import DicomDictionary, RepeatersDictionary, keyword_dict

from deidc.tools.verify import Finding

DCIODVFY = "dciodvfy"
MISSING_DCIODVFY = "dciodvfy not found: install Debian's dicom3tools (apt-get install dicom3tools)"
MISSING_MESSAGE = MISSING_DCIODVFY
TIMEOUT_SECONDS = 120.0

NEW_ERROR = "conformance-new-error"  # the output has it, its input has not
ERROR = "conformance-error"  # an output with no input to compare with: every error it has
UNCHECKED = "conformance-unchecked"  # dciodvfy crashed or timed out on the output but not on its input


def dciodvfy_path() -> str | None:
    """The dciodvfy executable on PATH, or None (then say MISSING_DCIODVFY)."""
    return shutil.which(DCIODVFY)


# --- one run of dciodvfy ---------------------------------------------------------------------

@dataclass(frozen=True)
class Report:
    """What dciodvfy said about one file, already scrubbed: never a value."""
    errors: tuple[tuple[str, str], ...]  # (path, scrubbed message) per "Error - " line, in order
    warnings: int  # "Warning - " lines
    failure: str = ""  # "" or why dciodvfy gave no verdict (crash, timeout, could not start)

    def error_keys(self) -> set[str]:
        keys = {message for _, message in self.errors}
        if self.failure:
            keys.add(self.failure)
        return keys


def run_dciodvfy(path: Path, exe: str, timeout: float = TIMEOUT_SECONDS) -> Report:
    try:
        proc = subprocess.run([exe, str(path)], capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return Report((), 0, f"dciodvfy did not finish within {timeout:g} s")
    except OSError as exc:
        return Report((), 0, f"dciodvfy could not be run ({type(exc).__name__})")
    text = (proc.stderr + proc.stdout).decode("utf-8", errors="replace")
    report = parse(text)
    # dciodvfy exits 0 (clean) or 1 (errors found); anything else (134: an assertion, a signal)
    # means it stopped partway, so what it printed is not the whole verdict.
    if proc.returncode not in (0, 1):
        code = f"signal {-proc.returncode}" if proc.returncode < 0 else f"exit status {proc.returncode}"
        report = Report(report.errors, report.warnings, f"dciodvfy stopped before the end ({code})")
    return report


def parse(text: str) -> Report:
    errors: list[tuple[str, str]] = []
    warnings = 0
    for line in text.splitlines():
        if line.startswith("Error - "):
            raw = line[len("Error - "):].strip()
            errors.append((attribute_path(raw), scrub(raw)))
        elif line.startswith("Warning - "):
            warnings += 1
    return Report(tuple(errors), warnings)


# --- values out, names kept --------------------------------------------------------------------

_TAG = re.compile(r"\(0x([0-9a-fA-F]{4}),0x([0-9a-fA-F]{4})\)")
# <...> right after these words names an attribute, module or macro; any other <...> is a value
_NAME_BEFORE = re.compile(r"(?:attribute|Attribute|Element=|Module=|Macro=|Element|Sequence|Module|Macro)\s*$")
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9 '()/&,.-]*")
_ANGLED = re.compile(r"<([^<>]*)>")
# "VR [n] = <value> - reason": the value may itself hold <, > or " - ", or run on past the line (a
# UT of XML), so it is everything from "= <" to the last ">" that only a reason follows, or to the end
_VALUE = re.compile(r"= <.*>(?=(?: - [^<>]*)?$)")
_VALUE_RUNS_ON = re.compile(r"= <.*$")
_QUOTED = re.compile(r"\"[^\"]*\"|'[^']*'")
_EQUALS = re.compile(r"(?<![<>!])=\s+(?![<\"'])[^<\"']*?(?=\s+-\s|$)")
_HEX = re.compile(r"\b0x[0-9a-fA-F]+\b")
# a number, date, time, UID or list of them (1.2.840, 20240101, 0.5\0.5, -3, 1,2,3)
_NUMBER = re.compile(r"(?<![\w.])[-+]?\d[\d.:\\/+-]*(?:,\s*[-+]?\d[\d.:\\/+-]*)*(?![\w])")
# numbers that are dciodvfy's own words, not values: "Type 1C", "value 3 of", "[1]" (the index)
_KEEP_NUMBER = re.compile(r"(?:Type\s+\d+C?|value\s+\d+\s+of|\[\d+\])")


def scrub(message: str) -> str:
    """The message with every value dciodvfy quotes in it replaced by "…"."""
    tags: list[str] = []
    keep: list[str] = []

    def hold(store: list[str], text: str) -> str:
        store.append(text)
        return f"\x00{'T' if store is tags else 'K'}{len(store) - 1}\x00"

    text = _TAG.sub(lambda m: hold(tags, f"({m[1]},{m[2]})".lower()), message)

    def angled(m: re.Match[str]) -> str:
        inner = m[1]
        if _NAME_BEFORE.search(text[:m.start()]) and _NAME.fullmatch(inner):
            return hold(keep, f"<{inner}>")
        return "<…>"

    text = _VALUE.sub("= <…>", text) if _VALUE.search(text) else _VALUE_RUNS_ON.sub("= <…>", text)
    text = _ANGLED.sub(angled, text)
    text = _QUOTED.sub(lambda m: m[0][0] + "…" + m[0][0], text)
    text = _EQUALS.sub("= …", text)
    text = _KEEP_NUMBER.sub(lambda m: hold(keep, m[0]), text)
    text = _HEX.sub("#", text)
    text = _NUMBER.sub("#", text)
    text = re.sub(r"\x00K(\d+)\x00", lambda m: keep[int(m[1])], text)
    text = re.sub(r"\x00T(\d+)\x00", lambda m: tags[int(m[1])], text)
    return re.sub(r"\s+", " ", text).strip()


@lru_cache(maxsize=1)
def _tag_by_name() -> dict[str, str]:
    """Keyword and name → "(gggg,eeee)"; repeating groups as masks, "(60xx,3000)"."""
    found: dict[str, str] = {}
    for mask, entry in RepeatersDictionary.items():
        found.setdefault(entry[4], f"({mask[:4]},{mask[4:]})".lower())
        found.setdefault(entry[2], f"({mask[:4]},{mask[4:]})".lower())
    for tag, entry in DicomDictionary.items():
        found.setdefault(entry[2], f"({tag >> 16:04x},{tag & 0xFFFF:04x})")
    for keyword, tag in keyword_dict.items():
        found[keyword] = f"({tag >> 16:04x},{tag & 0xFFFF:04x})"
    return found


def attribute_path(message: str) -> str:
    """The tag of the attribute the message names, "(gggg,eeee)"; or the name dciodvfy gives; or ""."""
    tag = _TAG.search(message)
    if tag is not None:
        return f"({tag[1]},{tag[2]})".lower()
    for m in _ANGLED.finditer(message):
        if not (_NAME_BEFORE.search(message[:m.start()]) and _NAME.fullmatch(m[1])):
            continue
        name = m[1]
        if message[:m.start()].rstrip().endswith(("Module=", "Macro=", "Module", "Macro")):
            continue
        return _tag_by_name().get(name, name)
    return ""


# --- the check ---------------------------------------------------------------------------------

@dataclass
class ConformanceResult:
    findings: list[Finding] = field(default_factory=list)
    files_checked: int = 0  # output files dciodvfy was run on
    paired: int = 0  # of them, those compared with their input
    unpaired: int = 0  # of them, those with no input found (checked alone)
    input_errors: int = 0  # the inputs' own errors (distinct messages per input file; not findings)
    input_error_messages: Counter[str] = field(default_factory=Counter)  # ... by scrubbed message → input files
    carried_errors: int = 0  # output errors its input already had (not findings)
    output_warnings: int = 0  # warnings dciodvfy gave on the outputs
    input_warnings: int = 0  # ... and on their inputs

    @property
    def new_errors(self) -> int:
        return sum(1 for f in self.findings if f.kind == NEW_ERROR)

    def summary(self) -> list[str]:
        lines = [f"conformance: {self.files_checked} files checked ({self.paired} with their input, "
                 f"{self.unpaired} alone); {self.new_errors} new errors, {self.carried_errors} carried "
                 f"from the inputs; the inputs' own errors: {self.input_errors}"]
        lines += [f"  input: {count} × {message}" for message, count in self.input_error_messages.most_common()]
        return lines


def check_conformance(pairs: Mapping[Path, Path | None], out: Path, workers: int = 2, *,
                      files: list[Path] | None = None, exe: str | None = None,
                      timeout: float = TIMEOUT_SECONDS) -> ConformanceResult:
    """dciodvfy on every output of `pairs` (output → its input) and on each input.

    An output whose input is None, or one of `files` (the release, tree.released_files) not in
    `pairs`, is checked alone. Raises FileNotFoundError(MISSING_DCIODVFY) when dciodvfy is not
    installed. `workers` dciodvfy processes run at once, each given `timeout` seconds.
    """
    exe = exe or dciodvfy_path()
    if exe is None:
        raise FileNotFoundError(MISSING_MESSAGE)
    outputs = sorted(set(pairs) | set(files or ()))
    to_run = sorted(set(outputs) | {p for p in pairs.values() if p is not None})
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        reports = dict(zip(to_run, pool.map(lambda p: run_dciodvfy(p, exe, timeout), to_run), strict=True))

    result = ConformanceResult(files_checked=len(outputs))
    for output in outputs:
        rel = _relative(output, out)
        report = reports[output]
        result.output_warnings += report.warnings
        original = pairs.get(output)
        if original is None:
            result.unpaired += 1
            result.findings += _findings(rel, report, ERROR, set())
            continue
        result.paired += 1
        baseline = reports[original]
        result.input_warnings += baseline.warnings
        before = baseline.error_keys()
        result.input_errors += len(before)
        result.input_error_messages.update(before)
        result.carried_errors += len(report.error_keys() & before)
        result.findings += _findings(rel, report, NEW_ERROR, before)
    result.findings.sort()
    return result


def _findings(rel: str, report: Report, kind: str, before: set[str]) -> list[Finding]:
    counts = Counter(message for _, message in report.errors)
    paths: dict[str, str] = {}
    for path, message in report.errors:
        paths.setdefault(message, path)
    found = []
    for message, count in counts.items():
        if message in before:
            continue
        detail = message if count == 1 else f"{message} (×{count})"
        found.append(Finding(kind, rel, paths[message], detail))
    if report.failure and report.failure not in before:
        found.append(Finding(UNCHECKED if kind == NEW_ERROR else ERROR, rel, "", report.failure))
    return found


def _relative(path: Path, out: Path) -> str:
    try:
        return path.relative_to(out).as_posix()
    except ValueError:
        return path.as_posix()

"""Run one benchmark tool as a child process, measure it, and check its outputs for PHI.

Each tool runs under a tiny wrapper child (bench/measure.py) whose only child it is: CPU is
user+sys from `getrusage(RUSAGE_CHILDREN)` there (it includes the tool's own reaped children,
e.g. deidc's workers), peak RSS its ru_maxrss, so every tool's figure is its own (for a tool
with worker processes, the largest single process, not the sum; never below the wrapper's
~8 MB). Wall clock is timed around the tool, from fork to exit.
"""

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from corpus import file_index
from drive import select_files
from peers import Tool
from phi_check import Leak, scan

MEASURE = Path(__file__).resolve().parent / "measure.py"


@dataclass
class Measure:
    """One child process: CPU seconds (user+sys), wall seconds, peak RSS in MB, exit code."""
    cpu_s: float
    wall_s: float
    rss_mb: float
    rc: int


@dataclass
class Row:
    """A table row: the figures of one tool, or why there are none."""
    tool: str
    version: str = ""
    files_in: int = 0
    files_out: int | None = None
    cpu_s: float | None = None
    wall_s: float | None = None
    rss_mb: float | None = None
    leak: Leak | None = None
    notes: list[str] = field(default_factory=list)
    error: str = ""

    @property
    def cpu_ms_per_file(self) -> float | None:
        return None if self.cpu_s is None or not self.files_in else 1000 * self.cpu_s / self.files_in

    @property
    def files_per_s(self) -> float | None:
        return None if not self.wall_s else self.files_in / self.wall_s


def run_measured(cmd: list[str], log: Path) -> Measure:
    """Run cmd under bench/measure.py (output to log) and return its figures."""
    result = log.with_suffix(".rusage.json")
    result.unlink(missing_ok=True)
    wrapper = [sys.executable, "-I", "-S", str(MEASURE), str(result), *cmd]
    with log.open("wb") as fh:
        rc = subprocess.run(wrapper, stdout=fh, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL).returncode
    if not result.exists():
        return Measure(0.0, 0.0, 0.0, rc or 1)
    data = json.loads(result.read_text())
    return Measure(data["cpu_s"], data["wall_s"], data["maxrss_kb"] / 1024, data["rc"])


def log_tail(log: Path, lines: int = 3) -> str:
    """The last lines of a child's output, for an error note."""
    text = log.read_text(errors="replace").strip().splitlines() if log.exists() else []
    return " | ".join(line.strip() for line in text[-lines:])[:300] or "no output"


def run_tool(tool: Tool, corpus: Path, work: Path, index: dict[bytes, int], repeat: int) -> Row:
    """Run tool (best wall clock of `repeat`), then check the last run's outputs; outputs are deleted."""
    row = Row(tool.name, tool.version, notes=[tool.note] if tool.note else [])
    if tool.argv is None:
        row.error = tool.skip
        return row
    inputs = select_files(corpus, tool.limit)
    row.files_in = len(inputs)
    if tool.limit and tool.limit < len(select_files(corpus, None)):
        row.notes.append(f"--peer-files: ran on {len(inputs)} files spread over the corpus")
    out, summary, log = work / f"{tool.name}-out", work / f"{tool.name}.json", work / f"{tool.name}.log"
    best: Measure | None = None
    for _ in range(repeat):
        shutil.rmtree(out, ignore_errors=True)
        summary.unlink(missing_ok=True)
        os.sync()  # earlier tools' dirty pages are not this tool's I/O
        measure = run_measured(tool.argv(out, summary), log)
        if measure.rc != 0:
            row.error = f"exit {measure.rc}: {log_tail(log)}"
            break
        best = measure if best is None or measure.wall_s < best.wall_s else best
    if best is not None and not row.error:
        row.cpu_s, row.wall_s, row.rss_mb = best.cpu_s, best.wall_s, best.rss_mb
        add_summary_notes(row, summary)
        row.leak = scan(out, index, frozenset(file_index(p) for p in inputs)) if out.exists() else Leak()
        row.files_out = row.leak.files_out
        add_leak_notes(row)
    shutil.rmtree(out, ignore_errors=True)
    return row


def add_summary_notes(row: Row, summary: Path) -> None:
    """Per-file failures that drive.py counted."""
    if not summary.exists():
        return
    result = json.loads(summary.read_text())
    if result.get("failed"):
        row.notes.append(f"{result['failed']} files failed, e.g. {result['first_error']}")


def add_leak_notes(row: Row) -> None:
    """Missing and unmatched outputs."""
    leak = row.leak
    if leak is None:
        return
    if leak.missing:
        row.notes.append(f"{leak.missing} inputs without output")
    if leak.unmatched:
        row.notes.append(f"{leak.unmatched} outputs not matched to an input (checked against all patients)")
    if leak.kinds:
        row.notes.append("most leaked: " + ", ".join(leak.top_kinds()))

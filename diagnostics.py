"""One diagnostic type and one renderer, shared by every stage.

In: a position in a source file and what went wrong. Out: text like a compiler prints::

    rules.deid:3:1: error: unknown keyword 'PatientNmae'
      3 | PatientNmae -> remove
        | ^^^^^^^^^^^
      hint: did you mean 'PatientName'?

`apply` stops at the first error (`DeidError`); `lint` collects all of them.
"""
from __future__ import annotations

import functools
import os
import re
import stat
from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning", "note"]

# What counts as text, for a rule file (deidc.dsl.source refuses a file holding these, DS002) and
# for what a diagnostic shows: control characters other than tab, line feed, form feed and
# carriage return (the grammar's whitespace); DEL; in text also the C1 controls U+0080..U+009F
# (terminal escapes such as CSI).
CONTROL_BYTES = re.compile(rb"[\x00-\x08\x0b\x0e-\x1f\x7f]")
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")
UTF8_BOM = b"\xef\xbb\xbf"
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
# How much of a source line a diagnostic shows, and the most it reads of a file to show one
# (at least the largest rule file, deidc.dsl.source.MAX_RULE_FILE_BYTES: a test holds that).
MAX_SHOWN_CHARS = 120
MAX_SHOWN_FILE_BYTES = 8 * 1024 * 1024


# Every code a stage reports, with the name `deidc lint` prints it under (`error[DC001]:
# unknown-keyword: ...`). Lint's own checks (DLnnn) are named by their modules,
# deidc/compiler/lint/dl0nn_<name>.py; tests/crosscheck/test_diagnostic_codes.py holds both lists
# to the codes the package reports.
CODES: dict[str, str] = {
    # the rule file and its syntax (deidc.dsl)
    "DS001": "syntax-error", "DS002": "not-a-rule-file", "DS003": "not-utf8", "DS004": "file-too-large",
    "DS005": "line-too-long", "DS006": "cannot-read",
    # the compiler (deidc.compiler)
    "DC001": "unknown-keyword", "DC003": "unknown-vr", "DC004": "bad-mask-or-pattern", "DC005": "bad-regex",
    "DC006": "private-in-even-group", "DC007": "path-ends-in-item", "DC010": "unknown-option",
    "DC011": "unsupported-version", "DC012": "unknown-profile", "DC013": "include-not-found",
    "DC014": "include-cycle", "DC015": "include-not-a-rule-file", "DC020": "bad-action", "DC021": "not-a-shift",
    "DC022": "unknown-secret", "DC023": "bad-fallback", "DC024": "lookup-table-unreadable",
    "DC025": "empty-range", "DC026": "unknown-method-code", "DC027": "method-too-long",
    "DC028": "unknown-pattern", "DC029": "bad-fuzzy", "DC030": "vr-incompatible-action", "DC031": "bad-collect",
    "DC032": "unknown-phi-set", "DC033": "bad-quality", "DC034": "file-meta-written-by-deidc",
    "DC035": "unknown-detector",
    # keys, resolved when a run starts (deidc.runtime.batch.key_sources)
    "DR001": "key-missing", "DR002": "key-too-short", "DR003": "key-exposed",
}


@dataclass(frozen=True)
class Span:
    """Where a construct sits in its source: 1-based line and column, end exclusive."""

    file: str
    line: int
    column: int
    end_line: int
    end_column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}" if self.line > 0 else self.file


@dataclass(frozen=True)
class Diagnostic:
    severity: Severity
    message: str
    span: Span
    hint: str | None = None
    code: str | None = None

    def render(self, source: str | None = None) -> str:
        """The diagnostic as text; with `source` (the file's text, else read from the file) also
        the line and a caret — one line, cut to ~120 characters, and only of text."""
        label = f"{self.severity}[{self.code}]" if self.code else self.severity
        out = [f"{self.span}: {label}: {self.message}"]
        text = source if source is not None else shown_text(self.span.file)
        if text is not None and self.span.line > 0:
            if text.startswith("\ufeff"):
                text = text[1:]
            lines = text.split("\n")  # lines as the parser counts them (not str.splitlines)
            if self.span.line <= len(lines) and showable(lines[self.span.line - 1]):
                width = 1
                if self.span.end_line == self.span.line:
                    width = max(1, self.span.end_column - self.span.column)
                # one line, cut to MAX_SHOWN_CHARS around the caret: never a block of a file
                line = lines[self.span.line - 1].rstrip("\r").replace("\r", " ")
                src_line, column, width = clip_line(line, self.span.column, width)
                gutter = str(self.span.line)
                pad = " " * len(gutter)
                out.append(f"  {gutter} | {src_line}")
                out.append(f"  {pad} | {' ' * (column - 1)}{'^' * width}")
        if self.hint:
            out.append(f"  hint: {self.hint}")
        return "\n".join(out)


class DeidError(Exception):
    """Raised by a stage that cannot go on; carries the diagnostics that explain why."""

    def __init__(self, diagnostics: list[Diagnostic] | Diagnostic):
        self.diagnostics = [diagnostics] if isinstance(diagnostics, Diagnostic) else diagnostics
        super().__init__("\n".join(d.render() for d in self.diagnostics))

    def render(self) -> str:
        return "\n".join(d.render() for d in self.diagnostics)


def shown_text(file: str) -> str | None:
    """The text a diagnostic may show lines of: None unless `file` is a regular file no larger
    than the limit and free of control characters — so never a FIFO (opening it could block),
    a device, or a binary file. Bytes that are not UTF-8 show as U+FFFD; a BOM is dropped."""
    try:
        st = os.stat(file)
    except (OSError, ValueError):
        return None
    if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_SHOWN_FILE_BYTES:
        return None
    return _shown_text(file, st.st_mtime_ns, st.st_size, st.st_ino)


@functools.lru_cache(maxsize=8)
def _shown_text(file: str, mtime_ns: int, size: int, inode: int) -> str | None:
    """Cached per file version: lint renders thousands of findings in one file."""
    try:
        with open(file, "rb") as fh:
            data = fh.read(MAX_SHOWN_FILE_BYTES + 1)
    except OSError:
        return None
    if len(data) > MAX_SHOWN_FILE_BYTES or data.startswith(UTF16_BOMS):
        return None
    data = data[len(UTF8_BOM):] if data.startswith(UTF8_BOM) else data
    text = data.decode("utf-8", "replace")
    if CONTROL_BYTES.search(data) or CONTROL_CHARS.search(text):
        return None
    return text


def clip_line(line: str, column: int, width: int) -> tuple[str, int, int]:
    """At most MAX_SHOWN_CHARS characters of `line` around `column` (1-based), `…` marking what
    was cut; returns the shown text and the column and caret width within it."""
    if len(line) <= MAX_SHOWN_CHARS:
        return line, column, width
    context = 40  # characters kept before the caret when the line is cut on the left
    start = 0 if column - 1 <= MAX_SHOWN_CHARS - context else min(column - 1 - context,
                                                                  len(line) - MAX_SHOWN_CHARS)
    end = start + MAX_SHOWN_CHARS
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(line) else ""
    width = max(1, min(width, end - (column - 1)))
    return prefix + line[start:end] + suffix, column - start + len(prefix), width


def showable(line: str) -> bool:
    """Whether a diagnostic may show this source line: text only, no control characters."""
    return CONTROL_CHARS.search(line) is None

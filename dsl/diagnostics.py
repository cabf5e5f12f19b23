"""One diagnostic type and one renderer, shared by every stage.

In: a position in a source file and what went wrong. Out: text like a compiler prints::

    rules.deid:3:1: error: unknown keyword 'PatientNmae'
      3 | PatientNmae -> remove
        | ^^^^^^^^^^^
      hint: did you mean 'PatientName'?

`apply` stops at the first error (`DeidError`); `lint` collects all of them.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning", "note"]


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
        text = source if source is not None else _read_source(self.span.file)
        if text is not None and self.span.line > 0:
            from deidc.dsl.source import clip_line, showable

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


def _read_source(file: str) -> str | None:
    """What of `file` a diagnostic may show: nothing unless it is a regular file that reads as
    a rule file (no FIFO, device or binary file; see `deidc.dsl.source.shown_text`)."""
    from deidc.dsl.source import shown_text

    return shown_text(file)


class DeidError(Exception):
    """Raised by a stage that cannot go on; carries the diagnostics that explain why."""

    def __init__(self, diagnostics: list[Diagnostic] | Diagnostic):
        self.diagnostics = [diagnostics] if isinstance(diagnostics, Diagnostic) else diagnostics
        super().__init__("\n".join(d.render() for d in self.diagnostics))

    def render(self) -> str:
        return "\n".join(d.render() for d in self.diagnostics)

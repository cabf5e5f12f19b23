"""The bounds that keep one hostile or broken file from stalling or exhausting a run.

In: the defaults below, or the values `deidc apply` was given (`--file-timeout`, `--max-memory`,
...). Out: a `Limits` every stage reads with `current()`. A file that reaches a bound is
quarantined with a reason that names the limit and the option that raises it; nothing is ever
cut short silently. Each worker process is configured once (`configure`), before its first file.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

MIB = 1 << 20


@dataclass(frozen=True)
class Limits:
    # wall time one file may take in a worker (read, de-identify, OCR, write) before the
    # worker is stopped and the file quarantined
    file_seconds: float = 300.0
    # memory a worker process may allocate (RLIMIT_DATA: heap and anonymous mappings)
    worker_memory: int = 6144 * MIB
    # bytes a deflated dataset may inflate to (a decompression bomb stops here)
    inflated_bytes: int = 1024 * MIB
    # nesting of sequences in a dataset; real files stay far below it
    sequence_depth: int = 32
    # longest text value `clean` reads; cleaning time grows with it
    clean_chars: int = 1 * MIB
    # distinct collected PHI words per patient that `clean` compares against
    phi_words: int = 10_000
    # time one search with a rule file's own /regex/ may take: one value tested by a `~`
    # condition, or one text scanned by a `clean` pattern (all its matches). Per search, not per
    # file: a pattern that backtracks without bound (`(a|aa)+$`) takes hours on one value, a
    # sound one milliseconds on `clean_chars` of text; `file_seconds` bounds the file's total.
    regex_seconds: float = 1.0


DEFAULT = Limits()
_current = DEFAULT


def current() -> Limits:
    """The limits of this process (the defaults until `configure` is called)."""
    return _current


def configure(limits: Limits) -> None:
    """Set this process's limits (the parent before a run, each worker when it starts)."""
    global _current
    _current = limits


def with_overrides(**values) -> Limits:
    """The defaults with the given fields replaced (None leaves a field as it is)."""
    return replace(DEFAULT, **{k: v for k, v in values.items() if v is not None})


class LimitExceeded(Exception):
    """A file reached one of the limits; the message names the limit and how to raise it."""

    def __init__(self, message: str, kind: str = "exceeds a limit") -> None:
        super().__init__(message)
        self.kind = kind

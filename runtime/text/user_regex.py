"""A rule file's own regular expressions, matched under a time limit.

In: a search of a value with a rule's pattern (compiled by `deidc.compiler.patterns.compiled`,
with the flags written after it). Out: the timeout the search gets (`search_seconds`), and
`RegexTooSlow` to raise when it overruns.

A pattern such as `(a|aa)+$` or `^(.*?,){11}P` backtracks without bound: on a value of 40 or 80
characters it runs for hours. Every search of a DICOM value with a rule's pattern (a `~`
condition, a `clean` regex) therefore gets `limits.regex_seconds` (`apply --regex-timeout`); one
that overruns raises `RegexTooSlow`, a `LimitExceeded`, so the worker quarantines that file with
a reason naming the rule and the batch goes on. The reason gives the value's length, never the
value. The compiler gives `name ~ /re/` the same treatment over the dictionary's keywords
(`compiler.names`).

Patterns are compiled by the `regex` package (`re` cannot stop a search) in its default VERSION0
mode, which reads a pattern as `re` does; `regex` accepts more (`(?<name>...)`, variable-length
lookbehind), and the compiler checks patterns with the same package and flags as the runtime.
"""
from __future__ import annotations

from deidc.compiler.patterns import FIX_HINT
from deidc.runtime import limits
from deidc.runtime.limits import LimitExceeded


def search_seconds() -> float:
    """The time one search of one value may take in this process (`limits.regex_seconds`)."""
    return limits.current().regex_seconds


class RegexTooSlow(LimitExceeded):
    """A rule's /regex/ ran longer than `limits.regex_seconds` on one value: the file is
    quarantined. `what` names the pattern and its rule (file:line), never the value."""

    def __init__(self, what: str, length: int, seconds: float | None = None) -> None:
        seconds = search_seconds() if seconds is None else seconds
        super().__init__(
            f"{what} ran longer than {seconds:g} s on a value of {length:,} characters "
            f"(limit regex_seconds; --regex-timeout raises it): it backtracks without bound; "
            f"{FIX_HINT}")

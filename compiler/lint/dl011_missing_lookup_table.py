"""A `lookup` table that cannot be read.

What: `lookup "ids.csv"` whose CSV file is missing or unreadable (compiler check DC024, mapped
to this code).

Why: without the table every value would take the fallback action; `apply` refuses to start.

Bad:

    PatientID -> lookup "missing.csv" else quarantine

Good:

    PatientID -> lookup "ids.csv" else quarantine   # ids.csv next to the rule file
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from deidc.diagnostics import Diagnostic

if TYPE_CHECKING:
    from deidc.compiler.lint import LintContext


def check(ctx: LintContext) -> Iterable[Diagnostic]:
    return ()  # reported by the compiler (DC024) and mapped to this code

"""A selector that can select nothing.

What: a mask that matches no tag of the data dictionary, a name pattern that finds no keyword
(compiler check DC004), or a private element or block in an even group (DC006): private groups
are odd.

Why: the rule looks like it protects something but never applies; usually a typo in the hex
digits or the regex.

Bad:

    (5X00,xxxx) -> remove
    (0018,"ACME",10) -> remove

Good:

    (50xx,xxxx) -> remove
    (0019,"ACME",10) -> remove
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from deidc.diagnostics import Diagnostic

if TYPE_CHECKING:
    from deidc.compiler.lint import LintContext


def check(ctx: LintContext) -> Iterable[Diagnostic]:
    return ()  # reported by the compiler (DC004, DC006) and mapped to this code

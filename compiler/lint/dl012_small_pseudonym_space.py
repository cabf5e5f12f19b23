"""A pseudonym template with too few values for a large archive.

What: `pseudonym "TEMPLATE"` whose placeholders give so few different values that among 10
million patients two would share one with a probability above one in a million (the birthday
bound: about n²/2 pairs per value space). `{hmac:20}` or `{hex:17}` is enough.

Why: two patients given the same pseudonym become one patient in the release — one folder, one
name, their studies mixed. `apply` finds every such collision and quarantines the later
patient's files, so nothing merges; but with a small template an archive loses files to it
(about 9 per 30,000 patients with `{hmac:8}`).

Bad:

    PatientID -> pseudonym "P{hmac:8}"

Good:

    PatientID -> pseudonym "P{hmac:20}"
"""
from __future__ import annotations

import math
from collections.abc import Iterable
from typing import TYPE_CHECKING

from deidc.compiler.plan import LookupAction, PseudonymAction
from deidc.compiler.templates import template_space
from deidc.diagnostics import Diagnostic

if TYPE_CHECKING:
    from deidc.compiler.lint import LintContext


ARCHIVE = 10_000_000  # patients in a large archive
TOLERATED = 1e-6  # chance that any two of them share a pseudonym
ENOUGH = f"{{hmac:{math.ceil(math.log10(ARCHIVE**2 / (2 * TOLERATED)))}}}"


def check(ctx: LintContext) -> Iterable[Diagnostic]:
    seen = set()
    for rule in ctx.plan.rules:
        action = rule.action
        while isinstance(action, LookupAction):
            action = action.fallback
        if not isinstance(action, PseudonymAction) or not ctx.in_file(rule.origin) or rule.id in seen:
            continue
        seen.add(rule.id)
        space = template_space(action.template)
        pairs = ARCHIVE * (ARCHIVE - 1) / (2 * space)
        if pairs <= TOLERATED:
            continue
        chance = "almost certainly" if pairs > 3 else f"with probability {-math.expm1(-pairs):.2g}"
        yield Diagnostic(
            "warning",
            f'pseudonym "{action.template}" has {_count(space)} values: among {ARCHIVE:,} patients, some would '
            f"share one ({chance}; about {_pairs(pairs)} pairs expected), and apply quarantines the later patient's files",
            ctx.span(rule.origin), hint=f"use more digits, e.g. {ENOUGH} (below {TOLERATED:g} for {ARCHIVE:,} patients)")


def _count(space: int) -> str:
    exponent = math.log10(space)
    return f"{space:,}" if exponent < 7 else f"about 10^{exponent:.0f}"


def _pairs(pairs: float) -> str:
    return f"{pairs:,.0f}" if pairs >= 10 else f"{pairs:.2g}"

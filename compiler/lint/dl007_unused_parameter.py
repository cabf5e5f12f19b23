"""A parameter that no action uses.

What: `NAME = secret(...)`, `NAME = days(...)`/`seconds(...)`, or a string or number parameter,
that no keyed action (`hash`, `pseudonym`, `remap uid`, with `using NAME` or the default `key`),
`shift NAME`, `dates shift NAME` or shift parameter uses — in any option block of the file.

Why: a parameter nobody uses is either left over, or the action that should use it names
another one (a `shift` meant to use the fine-grained offset).

Bad:

    key = secret("DEIDC_KEY")
    offset = days(hmac(key, PatientID), -30..-1)
    PatientID -> hash

Good:

    key = secret("DEIDC_KEY")
    offset = days(hmac(key, PatientID), -30..-1)
    PatientID -> hash
    vr DA -> shift offset
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from deidc.compiler.action_specs import action_parameters
from deidc.diagnostics import Diagnostic
from deidc.dsl import ast

if TYPE_CHECKING:
    from deidc.compiler.lint import LintContext


def check(ctx: LintContext) -> Iterable[Diagnostic]:
    plan = ctx.full_plan
    used: set[str] = set()
    for rule in plan.rules:
        used |= action_parameters(rule.action)
    used |= {shift.key for name, shift in plan.shifts.items() if name in used}
    seen = set()
    for scoped in ctx.full_statements:
        st = scoped.statement
        if not isinstance(st, ast.Param) or st.name in used or not ctx.in_file(st.span):
            continue
        if (st.name, st.span.line) in seen:
            continue
        seen.add((st.name, st.span.line))
        kind = {"SecretEnv": "secret", "SecretFile": "secret", "ShiftSpec": "shift"}.get(
            type(st.value).__name__, "parameter")
        yield Diagnostic(
            "warning", f"the {kind} '{st.name}' is not used by any action", st.span,
            hint="delete it, or name it in the action meant to use it (`using NAME`, `shift NAME`)")

"""`when` / `pixels where` conditions → Plan conditions on tags.

In: AST conditions. Out: `PlanCondition` trees over integer tags (values compared
case-insensitively after stripping DICOM padding, any value of a multi-valued attribute counts).
A `~` pattern is checked with its flags, by the package and flags the runtime matches it with,
and keeps its origin: a search that overruns the run's regex limit names it.
"""
from __future__ import annotations

import regex

from deidc.compiler.patterns import compiled
from deidc.compiler.plan import AllTrue, AnyTrue, Not, Origin, PlanCondition, Present, ValueIn, ValueMatches
from deidc.compiler.selectors import selector_text, tag_of
from deidc.diagnostics import Diagnostic
from deidc.dsl import ast


def plan_condition(cond: ast.Condition, diagnostics: list[Diagnostic]) -> PlanCondition | None:
    if isinstance(cond, (ast.AllOf, ast.AnyOf)):
        planned = [plan_condition(i, diagnostics) for i in cond.items]
        items = [i for i in planned if i is not None]
        if len(items) < len(planned):
            return None
        return (AllTrue if isinstance(cond, ast.AllOf) else AnyTrue)(tuple(items))
    if isinstance(cond, ast.Negation):
        inner = plan_condition(cond.item, diagnostics)
        return None if inner is None else Not(inner)
    tag = tag_of(cond.attribute, diagnostics)
    if tag is None:
        return None
    if isinstance(cond, ast.Equals):
        return ValueIn(tag, frozenset({str(cond.value).upper()}))
    if isinstance(cond, ast.NotEquals):
        return Not(ValueIn(tag, frozenset({str(cond.value).upper()})))
    if isinstance(cond, ast.OneOf):
        return ValueIn(tag, frozenset(str(v).upper() for v in cond.values))
    if isinstance(cond, ast.Matches):
        try:
            compiled(cond.pattern, cond.flags)
        except regex.error as err:
            diagnostics.append(Diagnostic("error", f"bad regex: {err}", cond.span, code="DC005"))
            return None
        written = f"{selector_text(cond.attribute)} ~ /{cond.pattern}/{cond.flags}"
        span = cond.span
        return ValueMatches(tag, cond.pattern, cond.flags, Origin(span.file, span.line, span.column, written))
    if isinstance(cond, ast.Exists):
        return Present(tag)
    raise TypeError(cond)

"""An attribute the IOD requires, deleted with `remove`.

What: Table E.1-1 marks the attribute as part of a standard composite IOD (`stdCompIOD` Y) and
its Basic Profile action contains Z (empty) or D (dummy) — it may be Type 1 or 2 — yet the rule
that decides it (a keyword, tag, mask, VR, name or path rule; not `default`) is `remove`.

Why: removing a Type 1 or Type 2 attribute makes the object invalid; viewers and archives may
reject it. The profile empties (Z) or dummies (D) it instead. A warning, not an error: a
profile may remove such attributes on purpose (TCIA removes several D attributes), and where
the code also allows X (X/Z/D) the attribute is Type 3 in some IODs.

Bad:

    StudyDate -> remove

Good:

    StudyDate -> empty
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import TYPE_CHECKING

from deidc.compiler.plan import RemoveAction, Specificity
from deidc.diagnostics import Diagnostic

from . import table_e1_1

if TYPE_CHECKING:
    from deidc.compiler.lint import LintContext


SHOWN = 5


def check(ctx: LintContext) -> Iterable[Diagnostic]:
    hits = defaultdict(list)
    for row in table_e1_1():
        if not row.required or not ({"Z", "D"} & set(row.basic.split("/"))):
            continue
        rule = ctx.decide(row.tag)
        if (rule is not None and rule.specificity != Specificity.DEFAULT  # `default`: see DL004
                and isinstance(rule.action, RemoveAction) and ctx.in_file(rule.origin)):
            hits[rule.id].append(row)
    for rid, rows in hits.items():
        rule = ctx.plan.rules[rid]
        names = ", ".join(f"{r.name} ({r.basic})" for r in rows[:SHOWN])
        more = f" and {len(rows) - SHOWN} more" if len(rows) > SHOWN else ""
        yield Diagnostic(
            "warning", f"'{rule.origin.selector} -> remove' deletes attributes the IOD requires: "
                     f"{names}{more}",
            ctx.span(rule.origin),
            hint="use `empty` (Table E.1-1 Z) or `dummy` (D), or keep them out with `except`")

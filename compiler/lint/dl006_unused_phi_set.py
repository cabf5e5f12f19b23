"""A PHI set that nothing uses.

What: `collect ... as NAME` where no `clean NAME` action and no `ocr -> redact NAME` in `pixels`
names the set (in any option block of the file).

Why: collecting costs a first pass over the patient's files; an unused set usually means a
misspelt name in `clean`, or a `clean` that was forgotten — free text is then not cleaned.

Bad:

    collect PatientName, PatientID as phi
    StudyDescription -> keep

Good:

    collect PatientName, PatientID as phi
    StudyDescription -> clean phi
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from deidc.compiler.plan import CleanAction, LookupAction, OcrRedactOp, PlanAction
from deidc.diagnostics import Diagnostic

if TYPE_CHECKING:
    from deidc.compiler.lint import LintContext


def _cleans(action: PlanAction) -> str | None:
    while isinstance(action, LookupAction):
        action = action.fallback
    return action.phi if isinstance(action, CleanAction) else None


def check(ctx: LintContext) -> Iterable[Diagnostic]:
    plan = ctx.full_plan
    used = {_cleans(r.action) for r in plan.rules}
    used |= {op.phi for p in plan.pixels for op in p.ops if isinstance(op, OcrRedactOp)}
    for name, collection in plan.collects.items():
        if name in used or collection.origin is None or not ctx.in_file(collection.origin):
            continue
        yield Diagnostic(
            "warning", f"the PHI set '{name}' is collected but no `clean` or `pixels` uses it",
            ctx.span(collection.origin),
            hint=f"clean free text with it, e.g. `StudyDescription -> clean {name}`, or delete the collect")

"""Table E.1-1 attributes that no rule decides, so they are kept.

What: attributes whose Basic Profile action is not K (keep) but that no tag, keyword, name
pattern, mask, VR or path rule selects: they fall to `default -> keep`, or to no rule at all
(kept). One finding per file, naming the first few.

Why: PS3.15 lists these attributes because they can identify a patient. Keeping them by
accident is the commonest de-identification leak. Start from the profile (`use "ps3.15-basic"`)
or end with a `default` that does not keep.

Bad:

    version 1
    PatientName -> empty     # PatientID, PatientBirthDate, ... kept

Good:

    version 1
    use "ps3.15-basic"
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from deidc.compiler.plan import KeepAction, Specificity
from deidc.diagnostics import Diagnostic

from . import table_e1_1

if TYPE_CHECKING:
    from deidc.compiler.lint import LintContext


SHOWN = 8


def check(ctx: LintContext) -> Iterable[Diagnostic]:
    missing = []
    for row in table_e1_1():
        if row.basic == "K":
            continue
        rule = ctx.decide(row.tag)
        if rule is None or (rule.specificity == Specificity.DEFAULT and isinstance(rule.action, KeepAction)):
            missing.append(row)
    if not missing:
        return
    keep_default = next((r for r in (ctx.plan.rules[i] for i in ctx.plan.defaults)
                         if ctx.in_file(r.origin) and isinstance(r.action, KeepAction)), None)
    span = ctx.span(keep_default.origin) if keep_default else ctx.file_span()
    names = ", ".join(f"{r.name} ({r.basic})" for r in missing[:SHOWN])
    more = f" and {len(missing) - SHOWN} more" if len(missing) > SHOWN else ""
    yield Diagnostic(
        "warning", f"{len(missing)} attributes of PS3.15 Table E.1-1 are kept because no rule decides "
                   f"them: {names}{more}",
        span, hint='start from the profile (`use "ps3.15-basic"`) or end with `default -> remove`')

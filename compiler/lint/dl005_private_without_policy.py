"""No rule says what happens to private elements.

What: the rules have no `private *` rule and no unconditional `default` that does something
other than keep, so private elements nobody named are kept as they are.

Why: vendors put names, IDs and dates in private tags. PS3.15 removes private attributes unless
the Retain Safe Private option says which are safe.

Bad:

    version 1
    use "ps3.15-basic"
    default -> keep

Good:

    version 1
    use "ps3.15-basic"
    private "SIEMENS CSA HEADER" { 10 -> keep }
    private * -> remove
"""
from __future__ import annotations

from deidc.compiler.plan import KeepAction
from deidc.dsl.diagnostics import Diagnostic


def check(ctx):
    plan = ctx.plan
    if plan.private_defaults:
        return
    if any(plan.rules[i].condition is None and not isinstance(plan.rules[i].action, KeepAction)
           for i in plan.defaults):
        return
    keep_default = next((plan.rules[i] for i in plan.defaults if ctx.in_file(plan.rules[i].origin)), None)
    yield Diagnostic(
        "warning", "private elements that no rule names are kept: there is no `private *` rule and no "
                   "`default` that removes",
        ctx.span(keep_default.origin) if keep_default else ctx.file_span(),
        hint="add `private * -> remove` (after rules for the private blocks known to be safe)")
